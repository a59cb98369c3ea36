// The AMK-LA's open air missions on the map, for the coordinator whose centre serves an
// AMK-LA region (the live stream sends missions only to them): each mission at the
// patient's position (the incident's, sent with the request: the incident itself is
// another AMK's and may not be on this map), a ring in the colour of its state, and while
// an aircraft is on its way (accepted, airborne) a dashed line from the aircraft to it.
// The ring lies under the markers: where the incident is on this map too, its dot
// inside the ring still selects the incident, and the ring selects the mission, which
// brings it into view in the AMK-LA's panel.
/* global L */
import { ENDED } from './air.js';
import { tipHtml } from './dom.js';
import { en, t } from './i18n.js';
import { inHealthRegion, regionName } from './session.js';
import { callSign, emit, store } from './state.js';

export const AIR_MISSION_COLOUR = {
  AIR_MISSION_STATE_REQUESTED: '#f08c00', // waiting for the base's answer
  AIR_MISSION_STATE_ACCEPTED: '#5f3dc4',
  AIR_MISSION_STATE_AIRBORNE: '#5f3dc4',
  AIR_MISSION_STATE_ON_SCENE: '#862e9c',
  AIR_MISSION_STATE_TRANSPORTING: '#862e9c',
  AIR_MISSION_STATE_AT_HOSPITAL: '#862e9c',
};
/** The states in which the aircraft is on its way to the patient. */
const INBOUND = new Set(['AIR_MISSION_STATE_ACCEPTED', 'AIR_MISSION_STATE_AIRBORNE']);

/** The layer: `draw()` brings it up to the store's missions and units (a few dozen
 * missions at most: redrawn whole, markers and lines kept and moved). */
export function airLayer(map, renderer, showTip, hideTip) {
  const group = L.featureGroup().addTo(map);
  const markers = new Map(); // mission id -> marker
  const lines = new Map(); // mission id -> polyline from its aircraft
  group.on('mouseover', (e) => { if (e.layer.options.missionId) showTip(e, missionText(e.layer.options.missionId)); });
  group.on('mouseout', hideTip);
  group.on('click', (e) => { if (e.layer.options.missionId) emit('air-select', e.layer.options.missionId); });

  function drop(list, id) {
    group.removeLayer(list.get(id));
    list.delete(id);
  }

  function draw() {
    const open = new Map();
    for (const m of store.air) {
      const pos = m.position;
      if (!ENDED.has(m.state) && pos && (pos.lat || pos.lon) && inHealthRegion(m.region)) open.set(m.id, m);
    }
    for (const id of [...markers.keys()]) if (!open.has(id)) drop(markers, id);
    for (const id of [...lines.keys()]) if (!open.has(id)) drop(lines, id);
    for (const [id, m] of open) {
      const at = [m.position.lat, m.position.lon];
      const colour = AIR_MISSION_COLOUR[m.state] || AIR_MISSION_COLOUR.AIR_MISSION_STATE_REQUESTED;
      let marker = markers.get(id);
      if (!marker) {
        marker = L.circleMarker(at, {
          renderer, missionId: id, radius: 12, color: colour, weight: 3.5,
          fillColor: colour, fillOpacity: 0.15, bubblingMouseEvents: false,
        });
        group.addLayer(marker);
        markers.set(id, marker);
      } else {
        marker.setLatLng(at);
        if (marker.options.color !== colour) marker.setStyle({ color: colour, fillColor: colour });
      }
      marker.bringToBack();
      const aircraft = store.units.get(m.unit_id);
      const from = aircraft?.position;
      const inbound = INBOUND.has(m.state) && aircraft?.air_mission_id === id && from && (from.lat || from.lon);
      if (!inbound) {
        if (lines.has(id)) drop(lines, id);
        continue;
      }
      const path = [[from.lat, from.lon], at];
      if (lines.has(id)) lines.get(id).setLatLngs(path);
      else {
        const line = L.polyline(path, {
          renderer, interactive: false, color: '#5f3dc4', weight: 2, dashArray: '6 5', opacity: 0.9,
        });
        group.addLayer(line);
        lines.set(id, line);
      }
      lines.get(id).bringToBack();
    }
    return { missions: markers.size, lines: lines.size };
  }
  return { draw };
}

function missionText(id) {
  const m = store.air.find((x) => x.id === id);
  if (!m) return id;
  const lines = [
    `${t('map.air_mission')} · ${en(m.state)}`,
    `${m.incident_id} ${t('airdesk.from')} ${regionName(m.incident_region)}`,
    m.address,
    m.unit_id ? callSign(m.unit_id) : '',
  ].filter(Boolean);
  return tipHtml(lines);
}
