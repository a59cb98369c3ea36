// "Has the AMK been here before?" for the selected incident (SearchIncidents): earlier
// incidents near its place in the last 90 days, open or archived, with their newest notes
// (a crew threatened at the door, a patient known to the service, the third call from
// one flat this week). Asked for with a button, not on every selection: each incident
// found is another patient's record read, and logged as such (Normen's data
// minimisation).
/* global L */
import { selectIncident } from '../desk.js';
import { dateTime, fill, h } from '../dom.js';
import { callMarking, errorSlot, field, input, rpcForm, select } from '../forms.js';
import { en, t } from '../i18n.js';
import { can } from '../session.js';
import { store } from '../state.js';

const WINDOW_DAYS = 90; // the server's longest window (actors/domain/incident_search.py)
const SKEW_MS = 10 * 60 * 1000;
const RADII_M = [50, 100, 250, 500];
const LIMIT = 20;
const NOTES_SHOWN = 2; // the newest of each; the incident itself has them all

/** The search form for incident ``id`` and where its answer goes, or null when the
 * role cannot search or the page has no place for the incident yet. */
export function earlierHere(id) {
  const inc = store.incidents.get(id);
  if (!can('SearchIncidents') || !inc?.position) return null;
  let here = null; // where the search looked: the incident's place when it was asked
  let asked = {}; // and how far, and whether with words
  const out = h('div', { class: 'earlier-here-found', 'aria-live': 'polite' });
  const radius = select(RADII_M.map((m) => [String(m), `${m} m`]), { value: String(defaultRadius(inc.position)) });
  radius.dataset.type = 'number';
  const box = h('div', { class: 'earlier-here', dataset: { state: 'idle', incidentId: id } });
  const form = rpcForm('SearchIncidents', [
    errorSlot('near'), errorSlot('since'),
    field('radius_m', t('here.radius'), radius),
    field('text', t('here.words'), input({ maxlength: 200 }), t('here.words_hint')),
  ], {
    submit: t('here.search'),
    extraClass: 'earlier-here-form',
    build: (body) => {
      const pos = store.incidents.get(id)?.position || inc.position; // moved since shown?
      here = { lat: pos.lat, lon: pos.lon };
      asked = { metresAround: body.radius_m, withWords: Boolean(body.text) };
      // The window ends a little ahead of this clock: the server's may be ahead of it.
      const until = Date.now() + SKEW_MS;
      return {
        ...body,
        near: here,
        since: new Date(until - WINDOW_DAYS * 86400 * 1000).toISOString(),
        until: new Date(until).toISOString(),
        limit: LIMIT + 1, // the incident itself is likely among them
      };
    },
    call: callMarking(box, out),
    done: (found) => show(found),
  });

  function show(found) {
    const { metresAround, withWords } = asked;
    const others = (found.incidents || []).filter((o) => o.id !== id);
    const shown = others.slice(0, LIMIT);
    box.dataset.state = shown.length ? 'found' : 'none';
    fill(out,
      shown.length
        ? h('ul', {}, shown.map((o) => line(o, here)))
        : h('p', { class: 'hint' }, t(withWords ? 'here.none_words' : 'here.none', { radius: metresAround, days: WINDOW_DAYS })),
      found.truncated || others.length > LIMIT ? h('p', { class: 'hint' }, t('here.more', { n: LIMIT })) : null);
  }

  fill(box, h('h4', {}, t('here.title', { days: WINDOW_DAYS })), form, out);
  return box;
}

/** A place known within 100 m: 100 m; a rougher one, the next radius that covers its
 * uncertainty (at most 500 m: beyond it a search lists a neighbourhood, not a door). */
function defaultRadius(position) {
  const accuracy = Number(position.accuracy_m) || 0;
  return RADII_M.find((m) => m >= Math.max(100, accuracy)) || RADII_M[RADII_M.length - 1];
}

/** Metres between two places: Leaflet's great-circle distance (the page loads it). */
const metres = (a, b) => L.latLng(a.lat, a.lon).distanceTo(L.latLng(b.lat, b.lon));

function line(o, here) {
  const urgency = o.urgency && o.urgency !== 'URGENCY_UNSPECIFIED' ? en(o.urgency) : t('map.untriaged');
  const facts = [urgency, en(o.status), o.criteria_code, o.address,
    o.position ? t('here.metres', { m: Math.round(metres(here, o.position)) }) : '',
    o.archived ? t('history.archived') : ''];
  // A live one opens in this panel; an archived one is not on the board (amk incident show).
  const id = o.archived
    ? h('span', { class: 'mono' }, o.id)
    : h('button', { type: 'button', class: 'small secondary mono', title: t('here.open') }, o.id);
  if (!o.archived) id.addEventListener('click', () => selectIncident(o.id));
  const notes = (o.notes || []).slice(-NOTES_SHOWN).map((n) => h('li', {},
    h('span', { class: 'meta' }, `${dateTime(n.at)} ${n.author || ''}: `), n.text));
  return h('li', { class: 'earlier-here-incident', dataset: { id: o.id, archived: String(Boolean(o.archived)) } },
    h('span', { class: 'meta' }, `${dateTime(o.created_at)} `), id, ' · ', facts.filter(Boolean).join(' · '),
    notes.length ? h('ul', { class: 'notes' }, notes) : null);
}
