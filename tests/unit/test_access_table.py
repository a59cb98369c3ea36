"""The roles-and-scopes table (actors/domain/data/access.toml) against the API the
gateway serves, and the decision function over the whole role x method matrix."""

from __future__ import annotations

import itertools

import pytest
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2

from actors.domain.access import (
    DEFAULT_TABLE,
    UNIT_SCOPES,
    AccessTable,
    Principal,
    Served,
    Target,
    decide,
    default_access_table,
)
from amk.audit.v1 import audit_pb2, credentials_pb2
from amk.coordination.v1 import coordination_pb2
from amk.dispatch.v1 import dispatch_pb2

TABLE = default_access_table()
NOW = 1_000_000.0
WINDOW = 900.0
PEOPLE = ("call-taker", "dispatcher", "supervisor")
ROLES = tuple(sorted(TABLE.roles))

#: Every service the gateway registers (actors/gateway/server.py), by descriptor.
SERVED = (
    dispatch_pb2.DESCRIPTOR.services_by_name["DispatchService"],
    coordination_pb2.DESCRIPTOR.services_by_name["CoordinationService"],
    audit_pb2.DESCRIPTOR.services_by_name["AuditService"],
    credentials_pb2.DESCRIPTOR.services_by_name["CredentialService"],
    health_pb2.DESCRIPTOR.services_by_name["Health"],
    reflection_pb2.DESCRIPTOR.services_by_name["ServerReflection"],
)


def served_methods() -> set[str]:
    return {f"/{s.full_name}/{m.name}" for s in SERVED for m in s.methods}


def test_the_gateway_registers_exactly_the_services_listed_here() -> None:
    from actors.gateway import server

    ours = {
        server.DISPATCH.full_name,
        server.COORDINATION.full_name,
        server.AUDIT.full_name,
        server.CREDENTIALS.full_name,
    }
    assert ours <= {s.full_name for s in SERVED}


def test_every_method_of_every_served_service_has_an_entry() -> None:
    missing = sorted(served_methods() - TABLE.rules.keys())
    assert missing == [], f"methods without an access-table entry: {missing}"


def test_the_table_names_no_method_the_gateway_does_not_serve() -> None:
    assert sorted(TABLE.rules.keys() - served_methods()) == []


def test_a_method_missing_from_the_table_is_found_and_refused(tmp_path) -> None:
    text = DEFAULT_TABLE.read_text()
    entry = '[methods."/amk.dispatch.v1.DispatchService/GetUnit"]'
    assert entry in text
    path = tmp_path / "access.toml"
    path.write_text(text.replace(entry, '[unused."GetUnit"]'))
    table = AccessTable.load(path)
    assert served_methods() - table.rules.keys() == {"/amk.dispatch.v1.DispatchService/GetUnit"}
    d = decide(
        table,
        "/amk.dispatch.v1.DispatchService/GetUnit",
        Principal("dispatcher", "oslo", issued_at=NOW),
        Target(("oslo",)),
        Served(frozenset({"oslo"})),
        now=NOW,
        break_glass_window_s=WINDOW,
    )
    assert not d.allowed and "not in the access table" in d.message


def test_no_patient_data_for_engineers_auditors_or_crews() -> None:
    for rule in TABLE.rules.values():
        if rule.logged:
            assert not rule.roles & {"engineer", "auditor", "crew"}, rule.method


def test_crews_only_reach_unit_scoped_or_cluster_methods() -> None:
    for rule in TABLE.rules.values():
        if "crew" in rule.roles:
            assert rule.scope in UNIT_SCOPES | {"cluster"}, rule.method


def test_only_the_auditor_reads_the_access_log() -> None:
    audit = [m for m in TABLE.rules if m.startswith("/amk.audit.v1.AuditService/")]
    assert {m.rsplit("/", 1)[1] for m in audit} == {
        "QueryAccessLog",
        "ReviewAccessLog",
        "SignAccessReview",
        "ListAccessReviews",
    }
    assert all(TABLE.rules[m].roles == {"auditor"} for m in audit)


# ---------------------------------------------------------------- the matrix

OWN, PARTNER, OTHER = "oslo", "innlandet", "sorlandet"
SERVED_NOW = Served(frozenset({OWN}), frozenset({PARTNER}))


def target_for(scope: str, region: str, unit: str = "osl-a11") -> Target:
    if scope in ("public", "cluster"):
        return Target()
    if scope == "centre":
        return Target(centre="oslo" if region == OWN else region)
    units = (unit,) if scope in UNIT_SCOPES else ()
    return Target((region,), units)


def principal(role: str, *, fresh: bool = True) -> Principal:
    return Principal(role, "oslo", "osl-a11" if role == "crew" else "", NOW if fresh else 0.0)


CASES = list(itertools.product(sorted(TABLE.rules), ROLES, (OWN, PARTNER, OTHER)))


@pytest.mark.parametrize(("method", "role", "region"), CASES)
def test_decision_matrix(method: str, role: str, region: str) -> None:
    rule = TABLE.rules[method]

    def ask(p: Principal | None, reason: str = "", target: Target | None = None):
        return decide(
            TABLE,
            method,
            p,
            target or target_for(rule.scope, region),
            SERVED_NOW,
            break_glass=reason,
            now=NOW,
            break_glass_window_s=WINDOW,
        )

    plain = ask(principal(role))
    glass = ask(principal(role), "patient transferred from Sørlandet, follow-up")
    stale = ask(principal(role, fresh=False), "patient transferred from Sørlandet, follow-up")
    anonymous = ask(None)
    if rule.scope == "public":
        assert plain.allowed and glass.allowed and anonymous.allowed
        return
    assert not anonymous.allowed and anonymous.unauthenticated
    if role not in rule.roles:
        # Break-glass widens regions, never roles.
        assert not plain.allowed and not glass.allowed and not stale.allowed
        assert role in plain.message
        assert plain.outside == ()  # refused for the role, not for a region not served
        return
    spec = TABLE.roles[role]
    if rule.scope == "cluster" or spec.regions == "all":
        assert plain.allowed and plain.why == "cluster"
        return
    if spec.regions == "own-unit":
        assert plain.allowed and plain.why == "own-unit"  # its own unit, any region
        other = ask(principal(role), target=target_for(rule.scope, region, unit="osl-a12"))
        assert not other.allowed and "own unit" in other.message
        return
    in_scope = region == OWN or (region == PARTNER and rule.partner)
    if in_scope:
        assert plain.allowed and plain.why == ("owner" if region == OWN else "partner")
        return
    assert not plain.allowed and "break-glass" in plain.message
    assert glass.allowed and glass.why == "break-glass" and glass.reason
    assert not stale.allowed and "log in again" in stale.message
    short = ask(principal(role), "because")
    assert not short.allowed and "too short" in short.message
    if rule.scope != "centre":  # the refusals name the regions not served, for the hint
        assert plain.outside == stale.outside == short.outside == (region,)


def test_an_empty_region_list_is_narrowed_to_the_callers_regions_never_all() -> None:
    method = "/amk.dispatch.v1.DispatchService/ListIncidents"
    d = decide(
        TABLE,
        method,
        principal("call-taker"),
        Target(narrow=True),
        SERVED_NOW,
        now=NOW,
        break_glass_window_s=WINDOW,
    )
    assert d.allowed and set(d.regions) == {OWN, PARTNER} and d.why == "partner"
    nothing = decide(
        TABLE,
        method,
        principal("call-taker"),
        Target(narrow=True),
        Served(),
        now=NOW,
        break_glass_window_s=WINDOW,
    )
    assert not nothing.allowed and "serves no region" in nothing.message


def test_an_unknown_role_is_refused_everywhere_but_health() -> None:
    for method, rule in TABLE.rules.items():
        d = decide(
            TABLE,
            method,
            Principal("visitor", "oslo", issued_at=NOW),
            target_for(rule.scope, OWN),
            SERVED_NOW,
            now=NOW,
            break_glass_window_s=WINDOW,
        )
        assert d.allowed == (rule.scope == "public"), method


def test_a_home_centre_takes_its_region_back_but_hands_no_other_region() -> None:
    served = Served(frozenset({"oslo"}), frozenset(), frozenset({"innlandet"}))
    for method, region, allowed in (
        ("/amk.coordination.v1.CoordinationService/HandBackRegion", "innlandet", True),
        ("/amk.coordination.v1.CoordinationService/HandOverRegion", "innlandet", False),
    ):
        d = decide(
            TABLE,
            method,
            Principal("supervisor", "innlandet", issued_at=NOW),
            Target((region,)),
            served,
            now=NOW,
            break_glass_window_s=WINDOW,
        )
        assert d.allowed == allowed and (d.why == "home" or not allowed)


@pytest.mark.parametrize("method", ["CloseCall", "LinkCall", "CreateIncident"])
def test_a_home_centre_still_finishes_a_call_it_answered_after_handing_its_region_on(
    method: str,
) -> None:
    """Innlandet answered a call, then its region went to Oslo: without ``home`` the
    call-taker on the line could not end it, link it or make its incident."""
    served = Served(frozenset(), frozenset(), frozenset({"innlandet"}))
    d = decide(
        TABLE,
        f"/amk.dispatch.v1.DispatchService/{method}",
        Principal("call-taker", "innlandet", issued_at=NOW),
        Target(("innlandet",)),
        served,
        now=NOW,
        break_glass_window_s=WINDOW,
    )
    assert d.allowed and d.why == "home", d


def test_the_suites_table_is_the_shipped_one_plus_the_test_role() -> None:
    from tests.helpers import TEST_ACCESS_TABLE, TEST_ROLE, access_table_for_tests

    # Out of date after an edit of the shipped table: `python -m tests.helpers` remakes it.
    assert TEST_ACCESS_TABLE.read_text() == access_table_for_tests(DEFAULT_TABLE.read_text())
    suite = AccessTable.load(TEST_ACCESS_TABLE, served_methods())
    assert suite.roles.keys() - TABLE.roles.keys() == {TEST_ROLE}
    for method, rule in TABLE.rules.items():
        other = suite.rules[method]
        assert (other.scope, other.field, other.logged) == (rule.scope, rule.field, rule.logged)
        assert other.roles == (rule.roles | {TEST_ROLE} if rule.scope != "public" else set())


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (('roles = ["call-taker", "dispatcher", "supervisor"]', 'roles = ["janitor"]'), "janitor"),
        (("DispatchService/GetIncident", "DispatchService/GetIncidnet"), "GetIncidnet"),
        (('scope = "incident"', 'scope = "galaxy"'), "galaxy"),
    ],
)
def test_a_table_file_with_an_unknown_role_method_or_scope_is_a_config_error_naming_it(
    tmp_path, edit: tuple[str, str], named: str
) -> None:
    from actors.gateway.guard import access_table_for
    from cluster.errors import ConfigError

    path = tmp_path / "access.toml"
    path.write_text(DEFAULT_TABLE.read_text().replace(*edit, 1))
    with pytest.raises(ConfigError, match=named) as err:
        access_table_for(path)
    assert str(path) in str(err.value)


def test_a_missing_table_file_is_a_config_error(tmp_path) -> None:
    from cluster.errors import ConfigError

    with pytest.raises(ConfigError, match=r"nowhere\.toml"):
        AccessTable.load(tmp_path / "nowhere.toml")


def test_the_table_is_a_setting_and_the_environment_can_name_it(tmp_path, monkeypatch) -> None:
    from cluster.config import ClusterConfig

    monkeypatch.delenv("AMK_ACCESS_TABLE", raising=False)
    assert ClusterConfig.load(home=tmp_path).access_table is None  # the shipped one
    monkeypatch.setenv("AMK_ACCESS_TABLE", str(tmp_path / "t.toml"))
    assert ClusterConfig.load(home=tmp_path).access_table == tmp_path / "t.toml"
