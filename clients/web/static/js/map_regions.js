// The map's background: Norway's outline and the seed regions (one polygon per
// municipality, static/geo/*.geojson, © Kartverket), each region filled with the colour
// of the centre that owns it now and outlined along its own border.
/* global L */
import { t } from './i18n.js';
import { centreById, centreName, inHealthRegion, regionById, session } from './session.js';

const UNOWNED = '#9aa3ad'; // nobody owns the region: failing over
const FALLBACK = ['#4c6ef5', '#f76707', '#37b24d', '#ae3ec9', '#1098ad', '#f59f00', '#e64980'];

/** The colour of a centre: the reference's, else a stable one from the palette. */
export function centreColour(centreId) {
  if (!centreId) return UNOWNED;
  const c = centreById(centreId);
  if (c && c.colour) return c.colour;
  const i = session.reference.centres.findIndex((x) => x.id === centreId);
  return FALLBACK[(i >= 0 ? i : centreId.length) % FALLBACK.length];
}

/** A GeoJSON document: a path, or a file name under /static/geo/. */
export async function loadGeo(name) {
  const path = name.startsWith('/') ? name : `/static/geo/${name}`;
  const res = await fetch(path);
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return res.json();
}

/** The segments of a region's own border: the edges that only one of its municipalities
 * has (shared edges are inside the region). Coordinates are rounded when built, so a
 * border shared by two municipalities has the same points on both sides. */
function borderSegments(features) {
  const counts = new Map();
  for (const f of features) {
    const g = f.geometry;
    const polygons = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
    for (const polygon of polygons) {
      for (const ring of polygon) {
        for (let i = 1; i < ring.length; i++) {
          const a = ring[i - 1];
          const b = ring[i];
          const key = a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]) ? `${a}|${b}` : `${b}|${a}`;
          const seen = counts.get(key);
          if (seen) seen.n += 1;
          else counts.set(key, { a, b, n: 1 });
        }
      }
    }
  }
  const segments = [];
  for (const { a, b, n } of counts.values()) if (n === 1) segments.push([[a[1], a[0]], [b[1], b[0]]]);
  return segments;
}

/** A point inside the region for its label: the middle of its most central municipality. */
function labelPoint(features) {
  const centres = features.map((f) => L.geoJSON(f).getBounds().getCenter());
  const mean = L.latLng(
    centres.reduce((s, c) => s + c.lat, 0) / centres.length,
    centres.reduce((s, c) => s + c.lng, 0) / centres.length,
  );
  return centres.reduce((best, c) => (c.distanceTo(mean) < best.distanceTo(mean) ? c : best));
}

/**
 * Draw the outline and the regions on `map` (renderer: a non-interactive canvas in a
 * pane below the markers); `regions` is /api/geo/regions (the running seed's). Returns
 * {bounds, recolour(owners), boundsShown()}: regions outside the health region shown are
 * drawn faint, and boundsShown() is the box of those inside it.
 */
export async function drawRegions(map, renderer, regions) {
  const outline = await loadGeo('norway.geojson');
  const attribution = regions.properties?.attribution || '© Kartverket (CC BY 4.0)';
  map.attributionControl.addAttribution(attribution);
  L.geoJSON(outline, {
    renderer,
    interactive: false,
    style: { color: '#8795a1', weight: 0.8, fillColor: '#eef1f4', fillOpacity: 1 },
  }).addTo(map);

  const byRegion = new Map();
  for (const f of regions.features) {
    const id = f.properties.region;
    if (!byRegion.has(id)) byRegion.set(id, []);
    byRegion.get(id).push(f);
  }
  const layers = new Map(); // region -> {fill, border, label}
  for (const [id, features] of byRegion) {
    const fill = L.geoJSON({ type: 'FeatureCollection', features }, {
      renderer,
      interactive: false,
      style: { color: '#ffffff', weight: 0.4, opacity: 0.6, fillColor: UNOWNED, fillOpacity: 0.45 },
    }).addTo(map);
    const border = L.polyline(borderSegments(features), {
      renderer,
      interactive: false,
      color: '#1d2733',
      weight: 1.6,
      opacity: 0.9,
    }).addTo(map);
    const label = L.marker(labelPoint(features), {
      interactive: false,
      keyboard: false,
      icon: L.divIcon({ className: 'region-label-anchor', html: '<span class="region-label"></span>', iconSize: null }),
    }).addTo(map);
    layers.set(id, { fill, border, label });
  }

  const drawn = {};
  function recolour(owners) {
    for (const [id, { fill, border, label }] of layers) {
      const owner = owners[id] || '';
      drawn[id] = owner;
      const colour = centreColour(owner);
      const shown = inHealthRegion(id);
      fill.setStyle({ fillColor: colour, fillOpacity: !shown ? 0.1 : owner ? 0.45 : 0.25 });
      border.setStyle({ dashArray: owner ? null : '6 5' });
      const el = label.getElement()?.firstElementChild;
      if (el) {
        const code = regionById(id)?.code || id;
        el.textContent = `${code} · ${owner ? centreName(owner) : t('owners.nobody')}`;
        el.style.borderColor = colour;
        el.dataset.region = id;
        el.dataset.owner = owner;
      }
    }
    return { ...drawn };
  }

  let bounds = null;
  for (const { fill } of layers.values()) bounds = bounds ? bounds.extend(fill.getBounds()) : fill.getBounds();
  function boundsShown() {
    let box = null;
    for (const [id, { fill }] of layers) {
      if (inHealthRegion(id)) box = box ? box.extend(fill.getBounds()) : fill.getBounds();
    }
    return box;
  }
  return { bounds, recolour, boundsShown };
}

/** The region whose municipality holds (lat, lon), or null (ray casting per ring). */
export function regionAt(features, lat, lon) {
  for (const f of features) {
    const g = f.geometry;
    const polygons = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
    for (const [outer, ...holes] of polygons) {
      if (inRing(outer, lon, lat) && !holes.some((h) => inRing(h, lon, lat))) return f.properties.region;
    }
  }
  return null;
}

function inRing(ring, x, y) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > y !== yj > y && x < xi + ((y - yi) * (xj - xi)) / (yj - yi)) inside = !inside;
  }
  return inside;
}
