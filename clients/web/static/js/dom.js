// Small DOM helpers: elements are built with textContent, never innerHTML, so nothing a
// caller or a note says can become markup (tipHtml reads innerHTML only to escape text
// for Leaflet's tooltips).

/** h('div', {class: 'x', dataset: {id: 1}, onclick: fn}, child, 'text', [more]) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'dataset') {
      for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) el.dataset[k] = v;
    } else if (key === 'text') el.textContent = value;
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'value') el.value = value;
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** Lines of text as a tooltip's HTML, each escaped: Leaflet sets tooltip content as
 * HTML, and everything in a record came from a person. */
export function tipHtml(lines) {
  const span = document.createElement('span');
  return lines.map((line) => {
    span.textContent = String(line);
    return span.innerHTML;
  }).join('<br>');
}

/** Replace an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Milliseconds since the epoch of a proto JSON Timestamp (RFC 3339); NaN when unset. */
export function when(ts) {
  return ts ? Date.parse(ts) : NaN;
}

/** "42 s", "7 min", "2 t 05 min" (bokmål) or "2 h 05 min": an incident's age, a wait. */
export function duration(ms, hourUnit = 't') {
  if (!Number.isFinite(ms)) return '–';
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} ${hourUnit} ${String(m % 60).padStart(2, '0')} min`;
}

/** An ETA in seconds as a travel time: "40 s", "2 min 30 s" (to 10 s under ten
 * minutes), "14 min". Not "2:30", which reads as a time of day on a dispatch screen. */
export function travel(seconds) {
  if (!Number.isFinite(seconds)) return '–';
  const s = Math.max(0, seconds);
  if (s >= 600) return `${Math.round(s / 60)} min`;
  const tens = Math.round(s / 10) * 10;
  if (tens < 60) return `${tens} s`;
  const rest = tens % 60;
  return rest ? `${Math.floor(tens / 60)} min ${rest} s` : `${tens / 60} min`;
}

/** Kilometres between two proto Positions along the earth's surface; Infinity when
 * either is missing (sorted last). For ordering a list, not for an ETA. */
export function greatCircleKm(a, b) {
  if (!a || !b || (!a.lat && !a.lon) || (!b.lat && !b.lon)) return Infinity;
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** "m:ss" for a stopwatch (CPR guidance: seconds matter). */
export function clock(seconds) {
  if (!Number.isFinite(seconds)) return '–';
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** "14:05:09" local time of a Timestamp, or "–". */
export function timeOfDay(ts) {
  const t = when(ts);
  return Number.isFinite(t) ? new Date(t).toLocaleTimeString('nb-NO', { hour12: false }) : '–';
}

/** "27.11.2026, 14:05" local date and time of a Timestamp, or "–": for what may be days
 * old (a suspension), where a time of day alone would mislead. */
export function dateTime(ts) {
  const t = when(ts);
  return Number.isFinite(t)
    ? new Date(t).toLocaleString('nb-NO', { hour12: false, dateStyle: 'short', timeStyle: 'short' })
    : '–';
}

/** Call fn at most once per animation frame, however often it is scheduled. */
export function perFrame(fn) {
  let pending = 0;
  return () => {
    if (!pending) pending = requestAnimationFrame(() => { pending = 0; fn(); });
  };
}

/** Call fn at most once per `ms` (trailing), for lists that need not follow every event. */
export function throttled(fn, ms) {
  let timer = null;
  let last = 0;
  return () => {
    if (timer) return;
    const wait = Math.max(0, last + ms - performance.now());
    timer = setTimeout(() => { timer = null; last = performance.now(); fn(); }, wait);
  };
}
