// The map screen: Leaflet with no tile layer (health networks reach no tile server), the
// regions in their owners' colours, stations, hospitals and airports, incidents by
// urgency and units by kind and status, and, when asked, a board at a past moment. Changes are drawn once per animation frame
// however many events arrive, so a snapshot of thousands draws in one go.
/* global L */
import { desk, mapCentred, mapClicked, onSelectIncident, selectIncident, selectUnit, showPastBoard } from './desk.js';
import { duration, h, tipHtml, when } from './dom.js';
import { en, t } from './i18n.js';
import { snapshotStartedAt } from './live.js';
import { airLayer, airLegend } from './map_air.js';
import { pastLayer } from './map_past.js';
import { drawRegions } from './map_regions.js';
import { PLACE_SYMBOL, SymbolMarker, UNIT_KIND_SYMBOL, UNIT_STATUS_COLOUR, URGENCY_COLOUR, moveIfMoved, symbolImage } from './map_symbols.js';
import { inHealthRegion, session } from './session.js';
import { CLOSED, WAITING, markDrawn, on, setDrawnAir, setDrawnCounts, setDrawnOwners, setDrawnPast, setMapHooks, setSnapshotDrawn, store } from './state.js';

export async function createMap(el, regionsGeo) {
  const map = L.map(el, {
    preferCanvas: true,
    zoomSnap: 0.25,
    minZoom: 4,
    maxZoom: 15,
    worldCopyJump: false,
    attributionControl: true,
  });
  map.attributionControl.setPrefix('Leaflet');
  map.setView([60.5, 10.5], 6);
  map.createPane('regions').style.zIndex = 350; // under the markers' overlay pane (400)
  const regionRenderer = L.canvas({ pane: 'regions', padding: 0.3 });
  // One canvas for every marker: a canvas above another would take its mouse events.
  const markerRenderer = L.canvas({ padding: 0.3, tolerance: 2 });

  const regions = await drawRegions(map, regionRenderer, regionsGeo);
  const start = session.healthRegion ? regions.boundsShown() : regions.bounds;
  if (start) map.fitBounds(start, { padding: [12, 12] });

  const places = L.featureGroup().addTo(map);
  const incidents = L.featureGroup().addTo(map);
  const units = L.featureGroup().addTo(map);
  drawPlaces(places, markerRenderer);

  // One tooltip for every marker, filled when the pointer reaches one: cheaper than a
  // tooltip bound to each of thousands of markers, and the age in it is always now's.
  const tip = L.tooltip({ direction: 'top', offset: [0, -8], className: 'marker-tip' });
  const showTip = (e, text) => tip.setLatLng(e.layer.getLatLng()).setContent(text).openOn(map);
  const hideTip = () => map.closeTooltip(tip);
  incidents.on('mouseover', (e) => showTip(e, incidentText(e.layer.options.id))).on('mouseout', hideTip);
  units.on('mouseover', (e) => showTip(e, unitText(e.layer.options.id))).on('mouseout', hideTip);
  places.on('mouseover', (e) => showTip(e, e.layer.options.title)).on('mouseout', hideTip);
  const air = airLayer(map, markerRenderer, showTip, hideTip);
  const past = pastLayer(map, markerRenderer, showTip, hideTip, () => showPastBoard(null));
  on('past-board', (board) => setDrawnPast(past.draw(board)));
  incidents.on('click', (e) => selectIncident(e.layer.options.id));
  units.on('click', (e) => selectUnit(e.layer.options.id));

  map.on('click', (e) => mapClicked(round5(e.latlng.lat), round5(e.latlng.lng)));
  map.on('moveend', () => {
    const c = map.getCenter();
    mapCentred(round5(c.lat), round5(c.lng));
  });
  const c = map.getCenter();
  desk.mapCentre = { lat: round5(c.lat), lon: round5(c.lng) };
  setMapHooks({
    pointOf: (lat, lon) => {
      const p = map.latLngToContainerPoint([lat, lon]);
      const box = el.getBoundingClientRect();
      return [box.left + p.x, box.top + p.y];
    },
    showOnMap: (lat, lon, zoom) => { map.setView([lat, lon], zoom ?? 14, { animate: false }); },
  });
  addLegend(map);

  const selection = L.circleMarker([0, 0], {
    renderer: markerRenderer,
    interactive: false,
    radius: 12,
    color: '#000',
    weight: 3,
    fill: false,
  });
  const clickMark = L.circleMarker([0, 0], {
    renderer: markerRenderer, interactive: false, radius: 5, color: '#1d2733', weight: 2, dashArray: '2 2', fill: false,
  });

  const incidentMarkers = new Map();
  const unitMarkers = new Map();
  const dirtyIncidents = new Set();
  const dirtyUnits = new Set();
  let ownersDirty = true;
  let airDirty = true;
  let snapshotDrawPending = false;
  let frame = 0;
  const schedule = () => {
    if (!frame) frame = requestAnimationFrame(flush);
  };

  on('incidents', (ids) => { for (const id of ids) dirtyIncidents.add(id); schedule(); });
  on('units', (ids) => {
    for (const id of ids) dirtyUnits.add(id);
    if (air.watches(ids)) airDirty = true; // an aircraft flying to a mission drags its line
    schedule();
  });
  on('air', () => { airDirty = true; schedule(); });
  on('owners', () => { ownersDirty = true; schedule(); });
  on('snapshot-done', () => { snapshotDrawPending = true; schedule(); });
  // Another health region: its regions in full colour, the others faint, and only its
  // incidents and units drawn; the map moves to it (to the country for all).
  on('health-region', () => {
    for (const id of store.incidents.keys()) dirtyIncidents.add(id);
    for (const id of store.units.keys()) dirtyUnits.add(id);
    ownersDirty = true;
    airDirty = true;
    setDrawnPast(past.again());
    const box = regions.boundsShown();
    if (box) map.fitBounds(box, { padding: [12, 12], animate: false });
    schedule();
  });
  onSelectIncident(() => {
    dirtyIncidents.add(desk.incident);
    schedule();
    // Chosen in the list (or by id) while off the map's view: the map goes to it, at the
    // zoom the dispatcher chose; one on screen is not moved under the pointer.
    const pos = store.incidents.get(desk.incident)?.position;
    if (pos && (pos.lat || pos.lon) && !map.getBounds().contains([pos.lat, pos.lon])) {
      map.panTo([pos.lat, pos.lon], { animate: false });
    }
  });
  on('map-click', ({ lat, lon }) => { clickMark.setLatLng([lat, lon]); if (!map.hasLayer(clickMark)) clickMark.addTo(map); });

  function flush() {
    frame = 0;
    const drawnIds = [];
    for (const id of dirtyIncidents) {
      drawIncident(id);
      drawnIds.push(id);
    }
    dirtyIncidents.clear();
    let unitsMade = false;
    for (const id of dirtyUnits) {
      unitsMade = drawUnit(id) || unitsMade;
      drawnIds.push(id);
    }
    if (unitsMade) raiseWaiting();
    dirtyUnits.clear();
    if (desk.incident && map.hasLayer(selection)) selection.bringToFront();
    if (airDirty) {
      airDirty = false;
      setDrawnAir(air.draw()); // rings and lines under the markers (air.draw puts them there)
    }
    if (ownersDirty) {
      ownersDirty = false;
      setDrawnOwners(regions.recolour(store.owners));
    }
    // Paint now rather than in Leaflet's own next frame, so "drawn at" is when the
    // pixels changed (lastApplied, snapshotDrawnMs), not a frame early.
    for (const r of [markerRenderer, regionRenderer]) {
      if (r._redrawRequest) {
        L.Util.cancelAnimFrame(r._redrawRequest);
        r._redraw();
      }
    }
    const at = performance.now();
    markDrawn(drawnIds, at);
    setDrawnCounts(incidentMarkers.size, unitMarkers.size);
    if (snapshotDrawPending) {
      snapshotDrawPending = false;
      const start = snapshotStartedAt();
      if (start !== null) setSnapshotDrawn(Math.round(at - start));
    }
  }

  function drawIncident(id) {
    const inc = store.incidents.get(id);
    let marker = incidentMarkers.get(id);
    const pos = inc && inc.position;
    if (!inc || CLOSED.has(inc.status) || !pos || (!pos.lat && !pos.lon) || !inHealthRegion(inc.region)) {
      if (marker) {
        incidents.removeLayer(marker);
        incidentMarkers.delete(id);
      }
      if (desk.incident === id && map.hasLayer(selection)) selection.remove();
      return;
    }
    const colour = URGENCY_COLOUR[inc.urgency] || URGENCY_COLOUR.URGENCY_UNSPECIFIED;
    if (!marker) {
      marker = L.circleMarker([pos.lat, pos.lon], {
        renderer: markerRenderer,
        id,
        radius: 6,
        color: '#1d2733',
        weight: 1,
        fillColor: colour,
        fillOpacity: 0.95,
        bubblingMouseEvents: false,
      });
      incidents.addLayer(marker);
      incidentMarkers.set(id, marker);
    } else {
      moveIfMoved(marker, pos);
      if (marker.options.fillColor !== colour) marker.setStyle({ fillColor: colour });
    }
    // Which side of the units (see raiseWaiting): moved only when that changes, since a
    // move makes the canvas redraw the marker's area.
    const waiting = WAITING.has(inc.status);
    if (marker.options.waiting !== waiting) {
      marker.options.waiting = waiting;
      if (waiting) marker.bringToFront();
      else marker.bringToBack();
    }
    if (desk.incident === id) {
      selection.setLatLng(marker.getLatLng());
      if (!map.hasLayer(selection)) selection.addTo(map);
      selection.bringToFront();
    }
  }

  function drawUnit(id) {
    const unit = store.units.get(id);
    let marker = unitMarkers.get(id);
    const pos = unit && unit.position;
    if (!unit || !pos || (!pos.lat && !pos.lon) || !inHealthRegion(unit.region)) {
      if (marker) {
        units.removeLayer(marker);
        unitMarkers.delete(id);
      }
      return;
    }
    const symbol = UNIT_KIND_SYMBOL[unit.kind] || UNIT_KIND_SYMBOL.UNIT_KIND_UNSPECIFIED;
    const colour = UNIT_STATUS_COLOUR[unit.status] || UNIT_STATUS_COLOUR.UNIT_STATUS_UNSPECIFIED;
    const made = !marker;
    if (!marker) {
      marker = new SymbolMarker([pos.lat, pos.lon], {
        renderer: markerRenderer,
        id,
        radius: 8,
        shape: symbol.shape,
        letter: symbol.letter,
        color: '#10171f',
        weight: 1.2,
        fillColor: colour,
        fillOpacity: 1,
        bubblingMouseEvents: false,
      });
      units.addLayer(marker); // at the front: above every incident drawn so far
      unitMarkers.set(id, marker);
    } else {
      moveIfMoved(marker, pos);
      if (marker.options.fillColor !== colour) marker.setStyle({ fillColor: colour });
    }
    return made;
  }

  // The order on the canvas, bottom to top: incidents a unit has been sent to (a unit
  // on scene marks its incident), units, then incidents no unit has been sent to yet
  // (received, triaged): a red dot waiting for help must not hide under an ambulance
  // standing at the station next to it. An incident moves side when its status does
  // (drawIncident); a unit made later lands on top, so after a frame that made units
  // (the first snapshot, another health region) the waiting ones are raised again.
  function raiseWaiting() {
    for (const marker of incidentMarkers.values()) {
      if (marker.options.waiting) marker.bringToFront();
    }
  }

  // Whatever the board held before the map was ready is drawn in the first frame, and a
  // board at a past moment asked meanwhile (or in the desk's other window) now.
  setDrawnPast(past.draw(desk.pastBoard));
  for (const id of store.incidents.keys()) dirtyIncidents.add(id);
  for (const id of store.units.keys()) dirtyUnits.add(id);
  schedule();

  // Expose for the keyboard (Alt+N at the map's centre) and the tests' screenshots.
  return { map, incidentMarkers, unitMarkers };
}

function round5(v) {
  return Math.round(v * 1e5) / 1e5;
}

function incidentText(id) {
  const inc = store.incidents.get(id);
  if (!inc) return id;
  const age = duration(Date.now() - when(inc.created_at), t('unit.hour'));
  const lines = [
    `${en(inc.urgency)} · ${en(inc.status)}`,
    inc.address || id,
    `${t('incident.age')}: ${age}`,
  ];
  if (inc.criteria_code) lines.splice(1, 0, inc.criteria_code);
  return tipHtml(lines);
}

function unitText(id) {
  const unit = store.units.get(id);
  if (!unit) return id;
  const lines = [`${unit.call_sign || unit.id} · ${en(unit.kind)}`, en(unit.status)];
  if (unit.incident_id) lines.push(`${t('unit.incident')}: ${unit.incident_id}`);
  return tipHtml(lines);
}

function drawPlaces(group, renderer) {
  const ref = session.reference;
  const add = (list, kind, titleOf) => {
    for (const p of list || []) {
      if (!Number.isFinite(p.lat) || !Number.isFinite(p.lon)) continue;
      const s = PLACE_SYMBOL[kind];
      group.addLayer(new SymbolMarker([p.lat, p.lon], {
        renderer,
        radius: s.radius,
        shape: s.shape,
        color: s.color,
        fillColor: s.fillColor,
        fillOpacity: 1,
        weight: 1.2,
        title: tipHtml([titleOf(p)]),
        bubblingMouseEvents: false,
      }));
    }
  };
  add(ref.stations, 'station', (p) => `${t('map.station')}: ${p.name || p.id}`);
  add(ref.hospitals, 'hospital', (p) => `${t('map.hospital')}: ${p.name || p.id}`);
  add(ref.airports, 'airport', (p) => `${t('map.airport')}: ${p.name || p.id}`);
}

function addLegend(map) {
  const STATUSES = Object.keys(UNIT_STATUS_COLOUR).filter((k) => k !== 'UNIT_STATUS_UNSPECIFIED');
  const legend = L.control({ position: 'bottomleft' });
  legend.onAdd = () => {
    const row = (img, text) => h('li', {}, img, ' ', text);
    const urgencies = ['URGENCY_AKUTT', 'URGENCY_HASTER', 'URGENCY_VANLIG', 'URGENCY_UNSPECIFIED'];
    const kinds = Object.keys(UNIT_KIND_SYMBOL).filter((k) => k !== 'UNIT_KIND_UNSPECIFIED');
    const el = h('div', { class: 'legend', role: 'group', 'aria-label': t('map.legend') },
      h('strong', {}, t('map.incidents')),
      h('ul', {}, urgencies.map((u) => row(symbolImage('circle', URGENCY_COLOUR[u], '#1d2733', '', 14), u === 'URGENCY_UNSPECIFIED' ? t('map.untriaged') : en(u)))),
      h('strong', {}, t('map.units')),
      h('ul', {}, kinds.map((k) => row(symbolImage(UNIT_KIND_SYMBOL[k].shape, '#0b7285', '#10171f', UNIT_KIND_SYMBOL[k].letter, 16), en(k)))),
      // A unit's colour is its status (orange: assigned, still at its station).
      h('ul', { class: 'legend-status' }, STATUSES.map((st) => row(symbolImage('circle', UNIT_STATUS_COLOUR[st], '#10171f', '', 12), en(st)))),
      h('ul', {},
        row(symbolImage('square', '#adb5bd', '#343a40', '', 12), t('map.station')),
        row(symbolImage('cross', '#ffffff', '#c92a2a', '', 16), t('map.hospital')),
        row(symbolImage('plane', '#1864ab', '#1864ab', '', 16), t('map.airport'))),
      airLegend());
    L.DomEvent.disableClickPropagation(el);
    return el;
  };
  legend.addTo(map);
}
