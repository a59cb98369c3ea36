// One desk, two screens: /?screen=map and /?screen=lists are two windows of the same
// browser. They share the selected incident and unit and the last map click over a
// BroadcastChannel, so a click on the map screen fills the form on the lists screen, and
// an air mission clicked on the map comes into view in the AMK-LA's panel there, and a
// board at a past moment asked in the lists window is drawn on the map window. The
// health region shown is shared the same way, and kept in localStorage for the next load.
import { session } from './session.js';
import { emit, on } from './state.js';

const HEALTH_REGION_KEY = 'amk.healthRegion';

const channel = 'BroadcastChannel' in window ? new BroadcastChannel('amk-desk') : null;

export const desk = { incident: null, unit: null, lastClick: null, mapCentre: null, pastBoard: null };

if (channel) channel.onmessage = (e) => receive(e.data, true);

function receive(msg, remote) {
  switch (msg.type) {
    case 'incident':
      desk.incident = msg.id;
      emit('select-incident', { id: msg.id, remote });
      break;
    case 'unit':
      desk.unit = msg.id;
      emit('select-unit', { id: msg.id, remote });
      break;
    case 'click':
      desk.lastClick = { lat: msg.lat, lon: msg.lon };
      emit('map-click', { lat: msg.lat, lon: msg.lon, remote });
      break;
    case 'air-mission':
      emit('air-select', msg.id);
      break;
    case 'centre':
      desk.mapCentre = { lat: msg.lat, lon: msg.lon };
      break;
    case 'past-board': // kept: a map made after it arrives draws it (map.js)
      desk.pastBoard = msg.board ?? null;
      emit('past-board', desk.pastBoard);
      break;
    case 'health-region':
      if (msg.id === session.healthRegion || !knownHealthRegion(msg.id)) break;
      session.healthRegion = msg.id;
      if (!remote) localStorage.setItem(HEALTH_REGION_KEY, msg.id);
      emit('health-region', msg.id);
      break;
    default:
      break;
  }
}

function send(msg) {
  receive(msg, false);
  if (channel) channel.postMessage(msg);
}

export const selectIncident = (id) => send({ type: 'incident', id });
export const selectUnit = (id) => send({ type: 'unit', id });
export const selectAirMission = (id) => send({ type: 'air-mission', id });
export const mapClicked = (lat, lon) => send({ type: 'click', lat, lon });
export const mapCentred = (lat, lon) => send({ type: 'centre', lat, lon });
export const showHealthRegion = (id) => send({ type: 'health-region', id });
/** The board at a past moment on the map, in this window and the desk's other (null:
 * off): only what the map draws of it, not the incidents' notes and the rest. */
export const showPastBoard = (board) => send({ type: 'past-board', board: board && forTheMap(board) });

function forTheMap(board) {
  const pick = (o, keys) => Object.fromEntries(keys.map((k) => [k, o[k]]));
  return {
    at: board.at,
    incidents: (board.incidents || []).map((i) => pick(i, ['id', 'region', 'position', 'urgency', 'status', 'address'])),
    units: (board.units || []).map((u) => pick(u, ['id', 'call_sign', 'region', 'kind', 'status', 'position', 'incident_id'])),
  };
}
export const onHealthRegion = (fn) => on('health-region', fn);

function knownHealthRegion(id) {
  return id === '' || session.reference.health_regions.some((h) => h.id === id);
}

/** At start, once the reference is in: the health region this browser showed last. */
export function restoreHealthRegion() {
  const stored = localStorage.getItem(HEALTH_REGION_KEY) || '';
  session.healthRegion = knownHealthRegion(stored) ? stored : '';
}

export const onSelectIncident = (fn) => on('select-incident', fn);
export const onSelectUnit = (fn) => on('select-unit', fn);
export const onMapClick = (fn) => on('map-click', fn);
