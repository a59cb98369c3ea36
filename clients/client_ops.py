"""The supervisors' and call-takers' part of :class:`clients.client.AmkClient`: 113
calls, hand-overs, EIDO, call sharing, major incidents, alerts and hospital
pre-notifications. Same conventions: a request id on every mutation, the client's retry
policy, protobuf messages out."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable
from typing import Any

from amk.coordination.v1 import coordination_pb2 as cpb
from amk.dispatch.v1 import dispatch_pb2 as pb
from clients.enums import (
    AIR_DECISION,
    ALERT_SERVICE,
    CALL_OUTCOME,
    CALL_STATUS,
    DESTINATION_CONDITION,
    PRE_NOTIFICATION_SEX,
    UNIT_KIND,
    URGENCY,
    _optional_enum,
    enum_value,
)
from cluster.tokens import bearer_header


def _split_csv(value: str | Iterable[str]) -> list[str]:
    """``"a,b"`` or ``["a", "b,c"]`` -> a flat list, for addresses and regions alike."""
    parts = [value] if isinstance(value, str) else list(value)
    return [a.strip() for part in parts for a in part.split(",") if a.strip()]


def _request_id(request_id: str | None) -> str:
    return request_id or uuid.uuid4().hex


class OperationsMixin:
    """Mixed into AmkClient, whose ``_unary`` sends the calls."""

    _metadata: tuple[tuple[str, str], ...]  # AmkClient's: sent with every call

    def _unary(self, method: str, request: Any, service: str = "dispatch") -> Any:
        raise NotImplementedError  # provided by AmkClient

    def as_token(self, token: str | None) -> Any:
        """This client sending ``token`` instead (None: none), on the same channels.

        A console room (clients/console_tokens.py) acts for several centres through one
        client: each request goes with the token of the centre serving its region. The
        view shares the channels, so closing either closes both."""
        view = copy.copy(self)
        kept = [(k, v) for k, v in self._metadata if k != "authorization"]
        if token:
            kept.append(bearer_header(token))
        view._metadata = tuple(kept)
        return view

    # ------------------------------------------------------------ calls

    def receive_call(
        self,
        lat: float,
        lon: float,
        accuracy_m: float = 0.0,
        caller_number: str = "",
        urgency_hint: str | int | None = None,
        request_id: str | None = None,
    ) -> pb.Call:
        """The telephony side: queue a 113 call in the region covering the caller."""
        req = pb.ReceiveCallRequest(
            request_id=_request_id(request_id),
            caller_number=caller_number,
            position=pb.Position(lat=lat, lon=lon, accuracy_m=accuracy_m),
            urgency_hint=_optional_enum(URGENCY, urgency_hint),
        )
        return self._unary("ReceiveCall", req)

    def abandon_call(self, call_id: str, request_id: str | None = None) -> pb.Call:
        req = pb.AbandonCallRequest(request_id=_request_id(request_id), call_id=call_id)
        return self._unary("AbandonCall", req)

    def sign_in(self, centre: str, call_taker: str) -> pb.CallTakerStatus:
        return self._unary("SignIn", pb.SignInRequest(centre=centre, call_taker=call_taker))

    def sign_out(self, centre: str, call_taker: str) -> pb.CallTakerStatus:
        return self._unary("SignOut", pb.SignOutRequest(centre=centre, call_taker=call_taker))

    def answer_next_call(
        self, centre: str, call_taker: str, request_id: str | None = None
    ) -> pb.Call | None:
        """The most urgent, then oldest, call this centre serves; None when none waits."""
        req = pb.AnswerNextCallRequest(
            request_id=_request_id(request_id), centre=centre, call_taker=call_taker
        )
        resp = self._unary("AnswerNextCall", req)
        return resp.call if resp.HasField("call") else None

    def link_call(self, call_id: str, incident_id: str, request_id: str | None = None) -> pb.Call:
        """A second caller to a known incident: link the call instead of a new incident."""
        req = pb.LinkCallRequest(
            request_id=_request_id(request_id), call_id=call_id, incident_id=incident_id
        )
        return self._unary("LinkCall", req)

    def close_call(
        self, call_id: str, outcome: str, note: str = "", request_id: str | None = None
    ) -> pb.Call:
        """An answered call ended without an incident: ``outcome`` is ``advice``,
        ``legevakt``, ``other_service``, ``no_need``, ``disconnected`` or ``other``
        (``note`` required)."""
        req = pb.CloseCallRequest(
            request_id=_request_id(request_id),
            call_id=call_id,
            outcome=enum_value(CALL_OUTCOME, outcome),
            note=note,
        )
        return self._unary("CloseCall", req)

    def list_calls(
        self, regions: str | Iterable[str] = (), status: str | int | None = None
    ) -> list[pb.Call]:
        req = pb.ListCallsRequest(
            regions=_split_csv(regions), status=_optional_enum(CALL_STATUS, status)
        )
        return list(self._unary("ListCalls", req).calls)

    def caller_history(self, call_id: str, hours: int = 0) -> pb.CallerHistory:
        """Earlier contacts from the number of an answered call (0 hours: the last 72)."""
        req = pb.ListCallerHistoryRequest(call_id=call_id, hours=hours)
        return self._unary("ListCallerHistory", req)

    def coverage(self, regions: str | Iterable[str] = ()) -> pb.Coverage:
        """Per station, the free ambulances there and the nearest free one (beredskap)."""
        return self._unary("GetCoverage", pb.GetCoverageRequest(regions=_split_csv(regions)))

    def call_metrics(self, regions: str | Iterable[str] = ()) -> pb.CallMetrics:
        return self._unary("GetCallMetrics", pb.GetCallMetricsRequest(regions=_split_csv(regions)))

    def set_call_sharing(
        self, region: str, sharing: bool, request_id: str | None = None
    ) -> cpb.SetCallSharingResponse:
        """Sharing mode: new calls of ``region`` offered at once to partner centres."""
        req = cpb.SetCallSharingRequest(
            request_id=_request_id(request_id), region=region, sharing=sharing
        )
        return self._unary("SetCallSharing", req, "coordination")

    # ------------------------------------------------------------ coordination

    def hand_over_region(
        self, region: str, to_centre: str, request_id: str | None = None
    ) -> pb.RegionStatus:
        """Move a whole region to another centre; answers once that centre serves it."""
        req = cpb.HandOverRegionRequest(
            request_id=_request_id(request_id), region=region, to_centre=to_centre
        )
        return self._unary("HandOverRegion", req, "coordination")

    def hand_back_region(self, region: str, request_id: str | None = None) -> pb.RegionStatus:
        """Give a region back to its home centre."""
        req = cpb.HandBackRegionRequest(request_id=_request_id(request_id), region=region)
        return self._unary("HandBackRegion", req, "coordination")

    def hand_over_incident(
        self, incident_id: str, to_region: str, request_id: str | None = None
    ) -> pb.Incident:
        """Move an incident, with its assigned units, to another region."""
        req = cpb.HandOverIncidentRequest(
            request_id=_request_id(request_id), incident_id=incident_id, to_region=to_region
        )
        return self._unary("HandOverIncident", req, "coordination")

    def lend_unit(self, unit_id: str, to_region: str, request_id: str | None = None) -> pb.Unit:
        """Lend an available unit to another region (to its home region: lend it back)."""
        req = cpb.LendUnitRequest(
            request_id=_request_id(request_id), unit_id=unit_id, to_region=to_region
        )
        return self._unary("LendUnit", req, "coordination")

    def list_alerts(self, incident_id: str) -> list[pb.Alert]:
        """The incident's alerts to other services, with their times and states."""
        reply = self._unary("ListAlerts", pb.ListAlertsRequest(incident_id=incident_id))
        return list(reply.alerts)

    def send_alert(
        self,
        incident_id: str,
        service: str | int,
        reason: str = "",
        request_id: str | None = None,
        phoned_to: str = "",
    ) -> pb.Alert:
        """Send the alert to ``service`` (``fire_110``, ``police_112``,
        ``legevakt_116117``): the proposed one, or a new one with ``reason``. With
        ``phoned_to``: given by phone to that person, recorded as sent and acknowledged."""
        request = pb.SendAlertRequest(
            request_id=_request_id(request_id),
            incident_id=incident_id,
            service=enum_value(ALERT_SERVICE, service),
            reason=reason,
            phoned_to=phoned_to,
        )
        return self._unary("SendAlert", request)

    def acknowledge_alert(
        self, incident_id: str, alert_id: str, by: str = "", request_id: str | None = None
    ) -> pb.Alert:
        """Record that the other centre has the alert; ``by``: who there (default: you)."""
        request = pb.AcknowledgeAlertRequest(
            request_id=_request_id(request_id),
            incident_id=incident_id,
            alert_id=alert_id,
            acknowledged_by=by,
        )
        return self._unary("AcknowledgeAlert", request)

    def confirm_prenotification_by_phone(
        self, incident_id: str, alert_id: str, spoke_with: str = "", request_id: str | None = None
    ) -> pb.Alert:
        """Record that the hospital was told by phone what its outbox could not deliver."""
        request = pb.ConfirmPreNotificationByPhoneRequest(
            request_id=_request_id(request_id),
            incident_id=incident_id,
            alert_id=alert_id,
            spoke_with=spoke_with,
        )
        return self._unary("ConfirmPreNotificationByPhone", request)

    def cancel_alert(
        self, incident_id: str, alert_id: str, reason: str = "", request_id: str | None = None
    ) -> pb.Alert:
        request = pb.CancelAlertRequest(
            request_id=_request_id(request_id),
            incident_id=incident_id,
            alert_id=alert_id,
            reason=reason,
        )
        return self._unary("CancelAlert", request)

    def recommend_destination(
        self,
        incident_id: str,
        condition: str | int | None = None,
        unit_id: str = "",
        limit: int = 0,
    ) -> pb.RecommendDestinationResponse:
        """Hospitals for the incident's patient by capability and ETA; ``condition``
        (trauma, stroke, stemi, other) or None to have it suggested from the criteria
        code; ``unit_id``: the transporting unit (its position when transporting)."""
        request = pb.RecommendDestinationRequest(
            incident_id=incident_id,
            condition=_optional_enum(DESTINATION_CONDITION, condition),
            unit_id=unit_id,
            limit=limit,
        )
        return self._unary("RecommendDestination", request)

    def send_prenotification(
        self,
        incident_id: str,
        hospital_id: str,
        condition: str | int,
        *,
        unit_id: str = "",
        age: int | None = None,
        sex: str | int | None = None,
        findings: str = "",
        free_text: str = "",
        symptom_onset: float | None = None,
        request_id: str | None = None,
    ) -> pb.Alert:
        """Pre-notify ``hospital_id`` of the patient in ``unit_id`` (default: the
        incident's only unit); ``symptom_onset`` in Unix seconds (stroke)."""
        request = pb.SendPreNotificationRequest(
            request_id=_request_id(request_id),
            incident_id=incident_id,
            hospital_id=hospital_id,
            condition=enum_value(DESTINATION_CONDITION, condition),
            unit_id=unit_id,
            age=age,
            sex=_optional_enum(PRE_NOTIFICATION_SEX, sex),
            findings=findings,
            free_text=free_text,
        )
        if symptom_onset is not None:
            request.symptom_onset.FromNanoseconds(int(symptom_onset * 1e9))
        return self._unary("SendPreNotification", request)

    # ------------------------------------------------------------ air ambulance

    def request_air_ambulance(
        self, incident_id: str, kind: str | int, reason: str, request_id: str | None = None
    ) -> pb.Alert:
        """Ask the AMK-LA serving the incident's region for an aircraft (``helicopter``
        or ``fixed_wing``); the request is the incident's air ambulance alert."""
        req = pb.RequestAirAmbulanceRequest(
            request_id=_request_id(request_id),
            incident_id=incident_id,
            kind=enum_value(UNIT_KIND, kind),
            reason=reason,
        )
        return self._unary("RequestAirAmbulance", req)

    def answer_air_request(
        self,
        mission_id: str,
        decision: str | int,
        unit_id: str = "",
        base_doctor: str = "",
        reason: str = "",
        request_id: str | None = None,
    ) -> pb.AirMission:
        """The AMK-LA's answer: ``accept`` (``unit_id``, ``base_doctor``) or ``decline``
        (``reason``)."""
        req = pb.AnswerAirRequestRequest(
            request_id=_request_id(request_id),
            mission_id=mission_id,
            decision=enum_value(AIR_DECISION, decision),
            unit_id=unit_id,
            base_doctor=base_doctor,
            reason=reason,
        )
        return self._unary("AnswerAirRequest", req)

    def abort_air_mission(
        self, mission_id: str, reason: str, request_id: str | None = None
    ) -> pb.AirMission:
        """Stand an accepted air mission down before the aircraft reached the patient."""
        req = pb.AirAbortMissionRequest(
            request_id=_request_id(request_id), mission_id=mission_id, reason=reason
        )
        return self._unary("AirAbortMission", req)

    def air_mission(self, mission_id: str) -> pb.AirMission:
        return self._unary("AirGetMission", pb.AirGetMissionRequest(mission_id=mission_id))

    def air_missions(
        self,
        regions: str | Iterable[str] = (),
        include_closed: bool = False,
        incident_id: str = "",
    ) -> list[pb.AirMission]:
        """Air missions of the AMK-LA regions (open ones unless ``include_closed``)."""
        req = pb.AirListMissionsRequest(
            regions=_split_csv(regions), include_closed=include_closed, incident_id=incident_id
        )
        return list(self._unary("AirListMissions", req).missions)

    def incident_history(self, incident_id: str) -> pb.IncidentHistory:
        """Every journal entry that wrote the incident (live and archived), oldest first."""
        req = pb.GetIncidentHistoryRequest(incident_id=incident_id)
        return self._unary("GetIncidentHistory", req)

    def board_at(self, at: float, regions: str | Iterable[str] = ()) -> pb.BoardAt:
        """Incidents, units and region owners as they stood at ``at`` (Unix seconds)."""
        req = pb.GetBoardAtRequest(regions=_split_csv(regions))
        req.at.FromNanoseconds(int(at * 1e9))
        return self._unary("GetBoardAt", req)

    def search_incidents(
        self,
        since: float,
        *,
        until: float | None = None,
        near: tuple[float, float] | None = None,
        radius_m: float = 0.0,
        text: str = "",
        regions: str | Iterable[str] = (),
        limit: int = 0,
    ) -> pb.SearchIncidentsResponse:
        """Incidents, open and archived, created in ``[since, until)`` (Unix seconds),
        within ``radius_m`` of ``near`` (lat, lon) and/or with every word of ``text``."""
        req = pb.SearchIncidentsRequest(
            regions=_split_csv(regions), radius_m=radius_m, text=text, limit=limit
        )
        req.since.FromNanoseconds(int(since * 1e9))
        if until is not None:
            req.until.FromNanoseconds(int(until * 1e9))
        if near is not None:
            req.near.lat, req.near.lon = near
        return self._unary("SearchIncidents", req)

    def export_incident(self, incident_id: str) -> str:
        """The incident as a NENA EIDO JSON document."""
        req = cpb.ExportIncidentRequest(incident_id=incident_id)
        return self._unary("ExportIncident", req, "coordination").json

    def import_incident(
        self, region: str, eido_json: str, request_id: str | None = None
    ) -> cpb.ImportIncidentResponse:
        """A NENA EIDO document becomes a new incident in ``region``."""
        req = cpb.ImportIncidentRequest(
            request_id=_request_id(request_id), region=region, json=eido_json
        )
        return self._unary("ImportIncident", req, "coordination")

    # ------------------------------------------------------------ major incidents

    def declare_major_incident(
        self,
        region: str,
        lat: float,
        lon: float,
        kind: str,
        expected_patients: int = 0,
        request_id: str | None = None,
    ) -> cpb.MajorIncident:
        req = cpb.DeclareMajorIncidentRequest(
            request_id=_request_id(request_id),
            region=region,
            position=pb.Position(lat=lat, lon=lon),
            kind=kind,
            expected_patients=expected_patients,
        )
        return self._unary("DeclareMajorIncident", req, "coordination")

    def major_incident(self, major_id: str) -> cpb.MajorIncident:
        req = cpb.GetMajorIncidentRequest(major_incident_id=major_id)
        return self._unary("GetMajorIncident", req, "coordination")

    def list_major_incidents(self) -> list[cpb.MajorIncident]:
        resp = self._unary("ListMajorIncidents", cpb.ListMajorIncidentsRequest(), "coordination")
        return list(resp.major_incidents)

    def link_to_major_incident(
        self, major_id: str, incident_ids: list[str], request_id: str | None = None
    ) -> cpb.MajorIncident:
        req = cpb.LinkToMajorIncidentRequest(
            request_id=_request_id(request_id),
            major_incident_id=major_id,
            incident_ids=incident_ids,
        )
        return self._unary("LinkToMajorIncident", req, "coordination")

    def reserve_units(
        self, major_id: str, unit_ids: list[str], request_id: str | None = None
    ) -> cpb.MajorIncident:
        req = cpb.ReserveUnitsRequest(
            request_id=_request_id(request_id), major_incident_id=major_id, unit_ids=unit_ids
        )
        return self._unary("ReserveUnitsForMajorIncident", req, "coordination")

    def stand_down_major_incident(
        self, major_id: str, request_id: str | None = None
    ) -> cpb.MajorIncident:
        req = cpb.StandDownMajorIncidentRequest(
            request_id=_request_id(request_id), major_incident_id=major_id
        )
        return self._unary("StandDownMajorIncident", req, "coordination")
