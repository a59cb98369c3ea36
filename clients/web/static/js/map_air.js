// The AMK-LA's open air missions on the map, for the coordinator whose centre serves an
// AMK-LA region (the live stream sends missions only to them): each mission a ring at
// the patient's position (the incident's, sent with the request: the incident itself is
// another AMK's and may not be on this map) in the colour of its state, and while an
// aircraft is on its way (accepted, airborne) a dashed line from the aircraft to it.
// Only the ring's stroke takes a click (it brings the mission into view in the AMK-LA's
// panel, in this window or the desk's other one): inside it the incident's own dot
// still selects the incident, and a click on the map there still gives its position.
/* global L */
import { ENDED, INBOUND, missionIncident, servedAirRegions } from './air.js';
import { selectAirMission } from './desk.js';
import { h, tipHtml } from './dom.js';
import { en, t } from './i18n.js';
import { moveIfMoved, ringImage } from './map_symbols.js';
import { inHealthRegion } from './session.js';
import { callSign, on, store } from './state.js';

const AIR_MISSION_COLOUR = {
  AIR_MISSION_STATE_REQUESTED: '#e64980', // waiting for the base's answer: act
  AIR_MISSION_STATE_ACCEPTED: '#364fc7', // on its way
  AIR_MISSION_STATE_AIRBORNE: '#364fc7',
  AIR_MISSION_STATE_ON_SCENE: '#495057', // at the patient and after: nothing to do here
  AIR_MISSION_STATE_TRANSPORTING: '#495057',
  AIR_MISSION_STATE_AT_HOSPITAL: '#495057',
};
const UNKNOWN_COLOUR = '#adb5bd';
const RADIUS = 17; // outside the selected incident's black circle (radius 12)

/** A circle drawn as a ring whose stroke alone is hit (Leaflet's takes the whole disc). */
const Ring = L.CircleMarker.extend({
  _containsPoint(p) {
    return Math.abs(p.distanceTo(this._point) - this._radius) <= this._clickTolerance();
  },
});

/** The layer: `draw()` brings it up to the store's missions and units and returns the
 * counts drawn; `watches(unitIds)`: whether a change of those units moves a line. */
export function airLayer(map, renderer, showTip, hideTip) {
  const group = L.featureGroup().addTo(map);
  const rings = new Map(); // mission id -> ring
  const lines = new Map(); // mission id -> polyline from its aircraft
  let flying = new Set(); // aircraft with a line drawn from them
  group.on('mouseover', (e) => showTip(e, missionText(e.layer.options.missionId)));
  group.on('mouseout', hideTip);
  group.on('click', (e) => selectAirMission(e.layer.options.missionId));

  function drop(list, id) {
    group.removeLayer(list.get(id));
    list.delete(id);
  }

  function draw() {
    const open = new Map();
    for (const m of store.air) {
      const pos = m.position;
      if (!ENDED.has(m.state) && pos && (pos.lat || pos.lon) && inHealthRegion(m.incident_region)) open.set(m.id, m);
    }
    for (const id of [...rings.keys()]) if (!open.has(id)) drop(rings, id);
    for (const id of [...lines.keys()]) if (!open.has(id)) drop(lines, id);
    flying = new Set();
    for (const [id, m] of open) {
      const at = [m.position.lat, m.position.lon];
      const colour = AIR_MISSION_COLOUR[m.state] || UNKNOWN_COLOUR;
      const ring = rings.get(id);
      if (!ring) {
        const made = new Ring(at, {
          renderer, missionId: id, radius: RADIUS, color: colour, weight: 3.5,
          fill: false, bubblingMouseEvents: false,
        });
        group.addLayer(made);
        made.bringToBack(); // under the markers drawn since, and those drawn later
        rings.set(id, made);
      } else {
        moveIfMoved(ring, m.position);
        if (ring.options.color !== colour) ring.setStyle({ color: colour });
      }
      const aircraft = store.units.get(m.unit_id);
      const from = aircraft?.position;
      if (!(INBOUND.has(m.state) && aircraft?.air_mission_id === id && from && (from.lat || from.lon))) {
        if (lines.has(id)) drop(lines, id);
        continue;
      }
      flying.add(aircraft.id);
      const path = [[from.lat, from.lon], at];
      const line = lines.get(id);
      if (!line) {
        const made = L.polyline(path, {
          renderer, interactive: false, color: AIR_MISSION_COLOUR.AIR_MISSION_STATE_ACCEPTED,
          weight: 2, dashArray: '6 5', opacity: 0.9,
        });
        group.addLayer(made);
        made.bringToBack();
        lines.set(id, made);
      } else {
        const [a] = line.getLatLngs();
        if (a.lat !== from.lat || a.lng !== from.lon) line.setLatLngs(path);
      }
    }
    return { missions: rings.size, lines: lines.size };
  }

  /** Whether a change of these units can move a line (an aircraft flying to a
   * mission, or one that may just have been sent): most unit changes cannot. */
  function watches(unitIds) {
    for (const id of unitIds) {
      if (flying.has(id) || store.units.get(id)?.air_mission_id) return true;
    }
    return false;
  }
  return { draw, watches };
}

function missionText(id) {
  const m = store.air.find((x) => x.id === id);
  if (!m) return id;
  return tipHtml([
    `${en(m.kind)} · ${en(m.state)}`,
    missionIncident(m),
    m.address,
    m.unit_id ? callSign(m.unit_id) : '',
  ].filter(Boolean));
}

/** The legend's rows for the rings and the line: shown only while the centre serves an
 * AMK-LA region (a failover or a hand-over moves them). */
export function airLegend() {
  const ring = (colour) => ringImage(colour, 16);
  const row = (img, text) => h('li', {}, img, ' ', text);
  const line = h('span', { class: 'legend-line', style: `border-top-color: ${AIR_MISSION_COLOUR.AIR_MISSION_STATE_ACCEPTED}` });
  const el = h('ul', { id: 'legend-air' },
    row(ring(AIR_MISSION_COLOUR.AIR_MISSION_STATE_REQUESTED), t('map.air_requested')),
    row(ring(AIR_MISSION_COLOUR.AIR_MISSION_STATE_ACCEPTED), t('map.air_inbound')),
    row(ring(AIR_MISSION_COLOUR.AIR_MISSION_STATE_ON_SCENE), t('map.air_at_patient')),
    row(line, t('map.air_line')));
  const show = () => { el.hidden = servedAirRegions().size === 0; };
  on('owners', show);
  show();
  return el;
}
