// What the console knows of aircraft and air missions, shared by the AMK-LA's panel, its
// aircraft overview and the map: the kinds that fly, the statuses free to fly, the
// mission states that are over (air_mission_lifecycle.py's table), and an aircraft's
// readiness.

export const AIRCRAFT = new Set(['UNIT_KIND_HELICOPTER', 'UNIT_KIND_FIXED_WING']);
export const AVAILABLE = new Set(['UNIT_STATUS_AVAILABLE_AT_STATION', 'UNIT_STATUS_AVAILABLE_MOBILE']);
export const ENDED = new Set(['AIR_MISSION_STATE_DECLINED', 'AIR_MISSION_STATE_COMPLETED', 'AIR_MISSION_STATE_ABORTED']);

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
