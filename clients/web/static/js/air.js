// What the console knows of aircraft and air missions, shared by the AMK-LA's panel, its
// aircraft overview, the map and the incident's alerts: the kinds that fly, the statuses
// free to fly, groups of mission states (air_mission_lifecycle.py's table), and an
// aircraft's readiness.

import { t } from './i18n.js';
import { regionById, regionName, session } from './session.js';
import { store } from './state.js';

export const AIRCRAFT = new Set(['UNIT_KIND_HELICOPTER', 'UNIT_KIND_FIXED_WING']);
export const AVAILABLE = new Set(['UNIT_STATUS_AVAILABLE_AT_STATION', 'UNIT_STATUS_AVAILABLE_MOBILE']);
export const ENDED = new Set(['AIR_MISSION_STATE_DECLINED', 'AIR_MISSION_STATE_COMPLETED', 'AIR_MISSION_STATE_ABORTED']);
/** The aircraft on its way to the patient: a mission the coordinator can still stand down. */
export const INBOUND = new Set(['AIR_MISSION_STATE_ACCEPTED', 'AIR_MISSION_STATE_AIRBORNE']);
/** The aircraft at the patient or carrying them: too late to withdraw (air.py's). */
export const AT_PATIENT = new Set([
  'AIR_MISSION_STATE_ON_SCENE', 'AIR_MISSION_STATE_TRANSPORTING', 'AIR_MISSION_STATE_AT_HOSPITAL',
]);

/** The incident's aircraft working it (air.py's ``aircraft_busy``): an accepted request
 * whose mission is on its way or at the patient, not withdrawn (a withdrawal that came
 * too late leaves it there). For the incident, such an aircraft is a unit sent. */
export function aircraftOn(inc) {
  return (inc.alerts || []).filter((a) => a.service === 'ALERT_SERVICE_AIR_AMBULANCE'
    && a.aircraft_unit_id
    && (INBOUND.has(a.mission_state) || AT_PATIENT.has(a.mission_state))
    && (!a.withdrawn_at || AT_PATIENT.has(a.mission_state)));
}

/** What a withdrawal's answer says of its timing: 'too_late' (the aircraft was at the
 * patient), 'after_end' (the mission had ended), or '' (it stood the aircraft down). */
export function withdrawalLateness(answer) {
  if (AT_PATIENT.has(answer)) return 'too_late';
  return answer === 'AIR_MISSION_STATE_COMPLETED' || answer === 'AIR_MISSION_STATE_DECLINED' ? 'after_end' : '';
}

/** Readiness of an aircraft, in the order the overview lists them. */
export const READINESS = ['ready', 'mission', 'busy', 'out'];

/** `ready` (free to fly), `mission` (on an air mission), `busy` (assigned otherwise) or
 * `out` (out of service). */
export function readiness(unit) {
  if (AVAILABLE.has(unit.status)) return 'ready';
  if (unit.air_mission_id) return 'mission';
  if (unit.status === 'UNIT_STATUS_OUT_OF_SERVICE') return 'out';
  return 'busy';
}

/** "INN-000004 fra Innlandet": the incident a mission is for, and its AMK's region. */
export function missionIncident(m) {
  return `${m.incident_id} ${t('airdesk.from')} ${regionName(m.incident_region)}`;
}

/** The AMK-LA regions the person's centre owns now (a failover or a hand-over moves the
 * coordination, and the panel, the map's rings and their legend with it). */
export function servedAirRegions() {
  const centre = session.me?.centre;
  return new Set(Object.entries(store.owners)
    .filter(([region, owner]) => owner === centre && regionById(region)?.kind === 'air_coordination')
    .map(([region]) => region));
}
