// What the map's markers look like. Incidents are circles in the colour of their urgency;
// units are a shape per kind with a letter, filled by status; stations, hospitals and
// airports are small symbols of their own. All are drawn on Leaflet's canvas (no DOM
// element per marker): thousands of DOM markers would not draw in under a second.
/* global L */

export const URGENCY_COLOUR = {
  URGENCY_AKUTT: '#d6262b', // red
  URGENCY_HASTER: '#f2c200', // yellow
  URGENCY_VANLIG: '#2f9e44', // green
  URGENCY_UNSPECIFIED: '#8a9099', // not triaged yet: grey
};

export const UNIT_STATUS_COLOUR = {
  UNIT_STATUS_AVAILABLE_AT_STATION: '#0b7285',
  UNIT_STATUS_AVAILABLE_MOBILE: '#15aabf',
  UNIT_STATUS_ASSIGNED: '#e8590c',
  UNIT_STATUS_EN_ROUTE: '#c92a2a',
  UNIT_STATUS_ON_SCENE: '#a61e4d',
  UNIT_STATUS_TRANSPORTING: '#6741d9',
  UNIT_STATUS_AT_HOSPITAL: '#1c7ed6',
  UNIT_STATUS_OUT_OF_SERVICE: '#868e96',
  UNIT_STATUS_UNSPECIFIED: '#868e96',
};

// One shape and one letter per kind, so kind reads without colour (colour is status).
export const UNIT_KIND_SYMBOL = {
  UNIT_KIND_ROAD_AMBULANCE: { shape: 'circle', letter: 'A' },
  UNIT_KIND_RAPID_RESPONSE_CAR: { shape: 'diamond', letter: 'R' },
  UNIT_KIND_BOAT_AMBULANCE: { shape: 'hull', letter: 'B' },
  UNIT_KIND_HELICOPTER: { shape: 'hexagon', letter: 'H' },
  UNIT_KIND_FIXED_WING: { shape: 'triangle', letter: 'F' },
  UNIT_KIND_UNSPECIFIED: { shape: 'circle', letter: '?' },
};

export const PLACE_SYMBOL = {
  station: { shape: 'square', radius: 3.5, color: '#343a40', fillColor: '#adb5bd' },
  hospital: { shape: 'cross', radius: 6, color: '#c92a2a', fillColor: '#ffffff' },
  airport: { shape: 'plane', radius: 6, color: '#1864ab', fillColor: '#1864ab' },
};

/** Trace `shape` of half-size `r` around (x, y) on ctx (begins its own path). */
export function tracePath(ctx, shape, x, y, r) {
  ctx.beginPath();
  const poly = (points) => {
    ctx.moveTo(x + points[0][0] * r, y + points[0][1] * r);
    for (const [px, py] of points.slice(1)) ctx.lineTo(x + px * r, y + py * r);
    ctx.closePath();
  };
  switch (shape) {
    case 'square':
      poly([[-1, -1], [1, -1], [1, 1], [-1, 1]]);
      break;
    case 'diamond':
      poly([[0, -1.25], [1.25, 0], [0, 1.25], [-1.25, 0]]);
      break;
    case 'triangle':
      poly([[0, -1.3], [1.2, 0.9], [-1.2, 0.9]]);
      break;
    case 'hull': // a boat's hull: flat deck, pointed keel
      poly([[-1.25, -0.8], [1.25, -0.8], [0.7, 0.9], [-0.7, 0.9]]);
      break;
    case 'hexagon':
      poly([0, 1, 2, 3, 4, 5].map((i) => [Math.cos((Math.PI / 3) * i), Math.sin((Math.PI / 3) * i)].map((v) => v * 1.15)));
      break;
    case 'cross':
      poly([[-0.35, -1], [0.35, -1], [0.35, -0.35], [1, -0.35], [1, 0.35], [0.35, 0.35], [0.35, 1],
        [-0.35, 1], [-0.35, 0.35], [-1, 0.35], [-1, -0.35], [-0.35, -0.35]]);
      break;
    case 'plane': // fuselage, wings, tail
      poly([[0, -1.2], [0.18, -0.4], [1.1, 0.05], [1.1, 0.3], [0.18, 0.1], [0.15, 0.75], [0.45, 1],
        [-0.45, 1], [-0.15, 0.75], [-0.18, 0.1], [-1.1, 0.3], [-1.1, 0.05], [-0.18, -0.4]]);
      break;
    default:
      ctx.arc(x, y, r, 0, Math.PI * 2, false);
  }
}

/**
 * A CircleMarker drawn as another shape, with an optional letter: it keeps the circle's
 * hit test, projection and batching in Leaflet's canvas renderer, and only replaces
 * the path. Options: shape, letter, textColor. Canvas renderer only.
 */
export const SymbolMarker = L.CircleMarker.extend({
  options: { shape: 'circle', letter: '', textColor: '#ffffff' },

  _updatePath() {
    const renderer = this._renderer;
    if (!renderer._drawing || this._empty()) return;
    const ctx = renderer._ctx;
    const p = this._point;
    tracePath(ctx, this.options.shape, p.x, p.y, this._radius);
    renderer._fillStroke(ctx, this);
    if (this.options.letter) {
      ctx.globalAlpha = 1;
      ctx.fillStyle = this.options.textColor;
      ctx.font = `bold ${Math.round(this._radius * 1.15)}px system-ui, sans-serif`;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillText(this.options.letter, p.x, p.y + 0.5);
    }
  },
});

/** Move `marker` to `pos` ({lat, lon}) only if it is elsewhere: a move repaints the
 * canvas around it. */
export function moveIfMoved(marker, pos) {
  const ll = marker.getLatLng();
  if (ll.lat !== pos.lat || ll.lng !== pos.lon) marker.setLatLng([pos.lat, pos.lon]);
}

const unitIcons = new Map(); // kind|status|size -> data URL: hundreds of rows share a few

/** A unit's symbol as an image, for the lists: its kind's shape filled by its status
 * (drawn once per kind, status and size, then shared). */
export function unitIcon(kind, status, size = 18) {
  const key = `${kind}|${status}|${size}`;
  if (!unitIcons.has(key)) {
    const s = UNIT_KIND_SYMBOL[kind] || UNIT_KIND_SYMBOL.UNIT_KIND_UNSPECIFIED;
    const fill = UNIT_STATUS_COLOUR[status] || UNIT_STATUS_COLOUR.UNIT_STATUS_UNSPECIFIED;
    unitIcons.set(key, symbolImage(s.shape, fill, '#10171f', s.letter, size).src);
  }
  const img = document.createElement('img');
  Object.assign(img, { src: unitIcons.get(key), width: size, height: size, alt: '', className: 'symbol' });
  return img;
}

/** A ring of `colour` as an image, for the legend (the map's air missions). */
export function ringImage(colour, size = 16) {
  const c = document.createElement('canvas');
  c.width = size * 2;
  c.height = size * 2;
  const ctx = c.getContext('2d');
  ctx.scale(2, 2);
  ctx.beginPath();
  ctx.arc(size / 2, size / 2, size / 2 - 2.5, 0, Math.PI * 2, false);
  ctx.lineWidth = 3;
  ctx.strokeStyle = colour;
  ctx.stroke();
  const img = document.createElement('img');
  Object.assign(img, { src: c.toDataURL(), width: size, height: size, alt: '', className: 'symbol' });
  return img;
}

/** A small image of a symbol, for the legend and the lists (the same shapes as the map). */
export function symbolImage(shape, fill, stroke = '#1d2733', letter = '', size = 18) {
  const c = document.createElement('canvas');
  c.width = size * 2;
  c.height = size * 2;
  const ctx = c.getContext('2d');
  ctx.scale(2, 2);
  tracePath(ctx, shape, size / 2, size / 2, size / 2 - 3);
  ctx.fillStyle = fill;
  ctx.fill();
  ctx.lineWidth = 1.2;
  ctx.strokeStyle = stroke;
  ctx.stroke();
  if (letter) {
    ctx.fillStyle = '#fff';
    ctx.font = `bold ${Math.round(size * 0.45)}px system-ui, sans-serif`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText(letter, size / 2, size / 2 + 0.5);
  }
  const img = document.createElement('img');
  img.src = c.toDataURL();
  img.width = size;
  img.height = size;
  img.alt = '';
  img.className = 'symbol';
  return img;
}
