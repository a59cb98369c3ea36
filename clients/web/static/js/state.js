// The live board as the browser holds it: incidents and units by id, region owners, the
// last revision. Everything arrives over /api/live; nothing here is authoritative. Topics
// ("incidents", "units", "owners", "calls", "air", "status") tell the map and the lists what
// changed, by id, so they redraw only that; the desk's own ("select-incident",
// "select-unit", "map-click", "air-select", "health-region") come from desk.js.

import { opened } from './break_glass.js';

const listeners = new Map();

/** The incident statuses that end it. */
export const CLOSED = new Set(['INCIDENT_STATUS_CLOSED', 'INCIDENT_STATUS_CANCELLED']);
// No unit sent yet: drawn above the units on the map (map.js).
export const WAITING = new Set(['INCIDENT_STATUS_RECEIVED', 'INCIDENT_STATUS_TRIAGED']);

export const store = {
  incidents: new Map(),
  units: new Map(),
  owners: {}, // region -> centre, as drawn on the map
  tokens: {}, // region -> fencing token of that owner
  revision: 0,
  status: null, // ClusterStatus
  calls: [],
  metrics: [],
  air: [], // AirMission: the AMK-LA's missions, when the person's centre serves one
};

const applied = new Map(); // id -> performance.now() when its change was drawn
const drawn = { incidents: 0, units: 0, air: 0, airLines: 0, pastIncidents: 0, pastUnits: 0 };
const timings = { snapshotDrawnMs: null };
let drawnOwners = null; // region -> centre as the map last coloured it (null: no map)

export function on(topic, fn) {
  if (!listeners.has(topic)) listeners.set(topic, []);
  listeners.get(topic).push(fn);
}

export function emit(topic, payload) {
  for (const fn of listeners.get(topic) || []) {
    try {
      fn(payload);
    } catch (err) {
      console.error(`listener of ${topic}`, err);
    }
  }
}

const int = (v) => Number(v || 0); // proto JSON writes int64 as a string

// A snapshot may come again (after a reset, or a stream that had to start over): the
// records it does not name are gone. Marking them stale instead of clearing first keeps
// the map from flashing empty.
let snapshot = null; // {incidents: Set, units: Set}: ids held but not (yet) in the snapshot

// A new stream starts over, perhaps on a store restored from a backup, which
// numbers its writes from the backup's revision again: what the page holds may carry
// revisions this store has not reached. So the next snapshot and the next mission list
// replace what is held whatever its revision, and owners' tokens start over.
let fresh = { snapshot: false, air: false };

/** A new stream is starting (a first connect, a reset, a refused stream): see ``fresh``. */
export function startOver() {
  fresh = { snapshot: true, air: true };
  snapshot = null; // a snapshot the last stream left half-sent is void
  store.revision = 0;
  store.tokens = {};
}

function beginSnapshot() {
  snapshot = { incidents: new Set(store.incidents.keys()), units: new Set(store.units.keys()) };
}

/** Apply one batch of WatchEvents; returns whether it ended a snapshot. */
export function applyEvents(events) {
  const incidents = new Set();
  const units = new Set();
  let owners = false;
  let snapshotDone = false;
  for (const ev of events) {
    const rev = int(ev.revision);
    if (rev > store.revision) store.revision = rev;
    switch (ev.kind) {
      case 'KIND_SNAPSHOT_INCIDENT':
      case 'KIND_INCIDENT_CHANGED':
        if (ev.kind === 'KIND_SNAPSHOT_INCIDENT' && !snapshot) beginSnapshot();
        if (ev.incident && ev.incident.id) {
          if (fresh.snapshot && ev.kind === 'KIND_SNAPSHOT_INCIDENT') store.incidents.set(ev.incident.id, ev.incident);
          else putNewer(store.incidents, ev.incident);
          snapshot?.incidents.delete(ev.incident.id);
          incidents.add(ev.incident.id);
        }
        break;
      case 'KIND_SNAPSHOT_UNIT':
      case 'KIND_UNIT_CHANGED':
        if (ev.kind === 'KIND_SNAPSHOT_UNIT' && !snapshot) beginSnapshot();
        if (ev.unit && ev.unit.id) {
          if (fresh.snapshot && ev.kind === 'KIND_SNAPSHOT_UNIT') store.units.set(ev.unit.id, ev.unit);
          else putNewer(store.units, ev.unit);
          snapshot?.units.delete(ev.unit.id);
          units.add(ev.unit.id);
        }
        break;
      case 'KIND_INCIDENT_REMOVED':
        if (store.incidents.delete(ev.removed_id)) incidents.add(ev.removed_id);
        break;
      case 'KIND_UNIT_REMOVED':
        if (store.units.delete(ev.removed_id)) units.add(ev.removed_id);
        break;
      case 'KIND_REGION_OWNER_CHANGED':
        if (ev.region_status) owners = setOwner(ev.region_status) || owners;
        break;
      case 'KIND_SNAPSHOT_DONE':
        if (!snapshot) beginSnapshot(); // an empty snapshot: everything held is gone
        // Incidents opened with break-glass never come on the stream: they stay.
        for (const id of snapshot.incidents) if (!opened.has(id) && store.incidents.delete(id)) incidents.add(id);
        for (const id of snapshot.units) if (store.units.delete(id)) units.add(id);
        snapshot = null;
        fresh.snapshot = false;
        snapshotDone = true;
        snapshots += 1;
        break;
      default:
        break;
    }
  }
  if (incidents.size) emit('incidents', incidents);
  if (units.size) emit('units', units);
  if (owners) emit('owners', store.owners);
  if (snapshotDone) emit('snapshot-done', null);
  return snapshotDone;
}

// A record from a write's answer may overtake the stream's copy, or the other way round:
// keep the higher revision.
function putNewer(map, record) {
  const held = map.get(record.id);
  if (held && int(held.revision) > int(record.revision)) return;
  map.set(record.id, record);
}

/** Put a record from an RPC answer (CreateIncident, AssignUnit, ...) into the board. */
export function putIncident(incident) {
  if (!incident || !incident.id) return;
  putNewer(store.incidents, incident);
  const glass = opened.get(incident.id);
  if (glass) glass.fetchedAt = Date.now(); // a write's answer is a fresh copy too
  emit('incidents', new Set([incident.id]));
}

export function putUnit(unit) {
  if (!unit || !unit.id) return;
  putNewer(store.units, unit);
  emit('units', new Set([unit.id]));
}

/** How a unit is named on screen: its crew's call sign, its id until the board has it. */
export function callSign(unitId) {
  return store.units.get(unitId)?.call_sign || unitId;
}

// Owners come from two places: the watch's KIND_REGION_OWNER_CHANGED and the periodic
// ClusterStatus. A status read just before a takeover may arrive just after it; the
// fencing token (the owner key's create revision) only grows, so an older token loses.
// "Nobody owns it" (failing over) carries no token and is always taken.
function setOwner(region) {
  const id = region.id;
  const owner = region.owner_centre || '';
  const token = int(region.fencing_token);
  const held = store.tokens[id] || 0;
  if (owner && token < held) return false;
  if (store.owners[id] === owner && held === token) return false;
  store.owners[id] = owner;
  store.tokens[id] = token;
  return true;
}

/** A RegionStatus from a write's answer (HandOverRegion, HandBackRegion). */
export function putRegionStatus(region) {
  if (region && region.id && setOwner(region)) emit('owners', store.owners);
}

export function applyStatus(status) {
  store.status = status;
  let changed = false;
  for (const region of status.regions || []) changed = setOwner(region) || changed;
  if (changed) emit('owners', store.owners);
  emit('status', status);
}

export function applyCalls(data) {
  store.calls = data.calls || [];
  store.metrics = data.metrics || [];
  emit('calls', data);
}

/** The AMK-LA's missions from the stream (`replace`: the whole list) or one from an
 * answer: a mission held at a higher revision is kept, so a poll read just before an
 * answer was committed cannot show the mission as it was before it. */
export function applyAir(data, replace = true) {
  const held = new Map(fresh.air && replace ? [] : store.air.map((m) => [m.id, m]));
  if (replace) fresh.air = false;
  const newer = (m) => (int(held.get(m.id)?.revision) > int(m.revision) ? held.get(m.id) : m);
  const incoming = (data.missions || []).map(newer);
  if (!replace) {
    const ids = new Set(incoming.map((m) => m.id));
    incoming.push(...store.air.filter((m) => !ids.has(m.id)));
  }
  const at = (m) => Date.parse(m.received_at || '') || 0;
  store.air = incoming.sort((a, b) => at(a) - at(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  emit('air', store.air);
}

/** The map reports what it drew, and when: the test hooks read these. */
export function markDrawn(ids, at) {
  for (const id of ids) applied.set(id, at);
}

export function setDrawnCounts(incidents, units) {
  drawn.incidents = incidents;
  drawn.units = units;
}

/** The AMK-LA's missions drawn on the map, and lines from an aircraft to its mission. */
export function setDrawnAir({ missions, lines }) {
  drawn.air = missions;
  drawn.airLines = lines;
}

/** The board at a past moment drawn on the map (map_past.js): its incidents and units. */
export function setDrawnPast({ incidents, units }) {
  drawn.pastIncidents = incidents;
  drawn.pastUnits = units;
}

export function setDrawnOwners(owners) {
  drawnOwners = owners;
}

// How many snapshots this page has taken: a resumed stream takes none.
let snapshots = 0;

export function setSnapshotDrawn(ms) {
  timings.snapshotDrawnMs = ms;
}

// The map's own hooks: where a position is drawn (page pixels), and showing a place.
let mapHooks = { pointOf: () => null, showOnMap: () => {} };
export function setMapHooks(hooks) {
  mapHooks = hooks;
}

// The test hooks (docs/web-console.md): read only, for the browser tests and benchmark.
const hooks = {};
Object.defineProperties(hooks, {
  revision: { get: () => store.revision, enumerable: true },
  owners: { get: () => ({ ...(drawnOwners ?? store.owners) }), enumerable: true },
  incidents: { get: () => store.incidents, enumerable: true },
  units: { get: () => store.units, enumerable: true },
  drawn: { get: () => ({ ...drawn }), enumerable: true },
  timings: { get: () => ({ ...timings }), enumerable: true },
  snapshots: { get: () => snapshots, enumerable: true },
  lastApplied: { value: (id) => applied.get(id), enumerable: true },
  pointOf: { value: (lat, lon) => mapHooks.pointOf(lat, lon), enumerable: true },
  showOnMap: { value: (lat, lon, zoom) => mapHooks.showOnMap(lat, lon, zoom), enumerable: true },
});
Object.freeze(hooks);
Object.defineProperty(window, 'amk', { value: hooks, writable: false, configurable: false });
