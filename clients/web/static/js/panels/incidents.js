// The incident list: every incident of the board, Akutt first, then untriaged, Haster and
// Vanlig, oldest first within each; filters by status, urgency, region and text. Rows are
// kept by id and only changed rows are rewritten: the list holds thousands in a load run.
import { aircraftOn } from '../air.js';
import { opened } from '../break_glass.js';
import { desk, onSelectIncident, selectIncident } from '../desk.js';
import { duration, h, throttled, when } from '../dom.js';
import { en, t } from '../i18n.js';
import { URGENCY_COLOUR } from '../map_symbols.js';
import { areaRegions, inHealthRegion, regionById, session } from '../session.js';
import { CLOSED, markDrawn, on, store } from '../state.js';

const RANK = { URGENCY_AKUTT: 0, URGENCY_UNSPECIFIED: 1, URGENCY_HASTER: 2, URGENCY_VANLIG: 3 };
export const INCIDENT_STATUSES = ['RECEIVED', 'TRIAGED', 'DISPATCHED', 'ON_SCENE', 'TRANSPORTING', 'AT_HOSPITAL', 'CLOSED', 'CANCELLED']
  .map((s) => `INCIDENT_STATUS_${s}`);

/** Open before closed; then Akutt, untriaged, Haster, Vanlig; then oldest first. */
function compare(a, b) {
  const ca = a.classList.contains('closed');
  const cb = b.classList.contains('closed');
  if (ca !== cb) return ca ? 1 : -1;
  const ra = RANK[a.dataset.urgency] ?? 1;
  const rb = RANK[b.dataset.urgency] ?? 1;
  return ra - rb || Number(a.dataset.created) - Number(b.dataset.created);
}

export function incidentsPanel() {
  const body = h('tbody', { id: 'incidents' });
  const count = h('span', { class: 'count' });
  const filters = {
    status: h('select', { id: 'filter-incident-status' },
      h('option', { value: 'open' }, t('filter.open')),
      h('option', { value: '' }, t('filter.all')),
      INCIDENT_STATUSES.map((s) => h('option', { value: s }, en(s)))),
    urgency: h('select', { id: 'filter-incident-urgency' },
      h('option', { value: '' }, t('filter.all')),
      Object.keys(RANK).map((u) => h('option', { value: u }, u === 'URGENCY_UNSPECIFIED' ? t('map.untriaged') : en(u)))),
    region: h('select', { id: 'filter-incident-region' }),
    text: h('input', { id: 'filter-incident-text', type: 'search', placeholder: t('filter.search_placeholder') }),
  };
  const rows = new Map(); // id -> <tr>
  const dirty = new Set();
  const moved = new Set(); // rows new or whose place in the order changed

  const render = throttled(() => {
    for (const id of dirty) updateRow(id);
    // With no map on this screen (?screen=lists) the list is where a change is drawn.
    if (!session.hasMap) markDrawn(dirty, performance.now());
    dirty.clear();
    // A few changes move a few rows; a snapshot sorts once. Moving all 2,000 rows on each
    // change would cost a layout of the whole table several times a second under load.
    if (moved.size > 50) reorder();
    else for (const tr of moved) place(tr);
    moved.clear();
    applyFilters();
  }, 200);

  function updateRow(id) {
    const inc = store.incidents.get(id);
    let tr = rows.get(id);
    if (!inc) {
      if (tr) tr.remove();
      rows.delete(id);
      if (tr) moved.delete(tr);
      return;
    }
    if (!tr) {
      tr = h('tr', { tabindex: '0', dataset: { incidentId: id } });
      tr.addEventListener('click', () => selectIncident(id));
      tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') selectIncident(id); });
      rows.set(id, tr);
      moved.add(tr);
    }
    const before = `${tr.dataset.urgency}|${tr.dataset.status}`;
    tr.dataset.status = inc.status;
    tr.dataset.urgency = inc.urgency;
    tr.dataset.region = inc.region;
    tr.dataset.created = when(inc.created_at);
    tr.dataset.text = `${inc.id} ${inc.address || ''} ${inc.caller_number || ''} ${inc.criteria_code || ''}`.toLowerCase();
    tr.classList.toggle('closed', CLOSED.has(inc.status));
    if (before !== `${inc.urgency}|${inc.status}`) moved.add(tr);
    tr.classList.toggle('selected', desk.incident === id);
    // Opened with break-glass: not on the live stream, so the row says it is a copy.
    const glass = opened.has(id) ? h('span', { class: 'glass-mark', title: t('breakglass.banner') }, ` ${t('breakglass.mark')}`) : null;
    const dot = h('span', { class: 'dot', style: `background:${URGENCY_COLOUR[inc.urgency] || URGENCY_COLOUR.URGENCY_UNSPECIFIED}` });
    tr.replaceChildren(
      h('td', {}, dot, inc.urgency === 'URGENCY_UNSPECIFIED' ? t('map.untriaged') : en(inc.urgency)),
      h('td', { class: 'mono' }, inc.id, glass),
      h('td', {}, regionById(inc.region)?.code || inc.region),
      h('td', {}, en(inc.status)),
      // Cut at the column's width (app.css); the whole address on hover.
      h('td', { class: 'address', title: inc.address || null }, inc.address || '–'),
      h('td', { class: 'age' }, duration(Date.now() - when(inc.created_at), t('unit.hour'))),
      h('td', {}, String((inc.assigned_unit_ids || []).length + aircraftOn(inc).length || '')));
  }

  function reorder() {
    body.append(...[...rows.values()].sort(compare)); // moves the existing rows: no re-creation
  }

  /** Put one row where it belongs among the (sorted) others: a binary search. */
  function place(tr) {
    if (tr.parentNode) tr.remove();
    const others = body.children;
    let lo = 0;
    let hi = others.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compare(others[mid], tr) <= 0) lo = mid + 1;
      else hi = mid;
    }
    body.insertBefore(tr, others[lo] || null);
  }

  /** The region choices: those of the health region shown. */
  function fillRegions() {
    const keep = filters.region.value;
    const regions = areaRegions().filter((r) => inHealthRegion(r.id));
    filters.region.replaceChildren(h('option', { value: '' }, t('filter.all')),
      regions.map((r) => h('option', { value: r.id }, r.name)));
    filters.region.value = regions.some((r) => r.id === keep) ? keep : '';
  }
  fillRegions();

  function applyFilters() {
    const status = filters.status.value;
    const urgency = filters.urgency.value;
    const region = filters.region.value;
    const text = filters.text.value.trim().toLowerCase();
    let shown = 0;
    for (const tr of rows.values()) {
      const ok = (status === 'open' ? !tr.classList.contains('closed') : !status || tr.dataset.status === status)
        && (!urgency || tr.dataset.urgency === urgency)
        && (!region || tr.dataset.region === region) && inHealthRegion(tr.dataset.region)
        && (!text || tr.dataset.text.includes(text));
      tr.hidden = !ok;
      if (ok) shown += 1;
    }
    count.textContent = t('list.count', { shown, total: rows.size });
  }

  on('incidents', (ids) => { for (const id of ids) dirty.add(id); render(); });
  on('health-region', () => { fillRegions(); applyFilters(); });
  onSelectIncident(({ id }) => {
    for (const tr of body.querySelectorAll('tr.selected')) tr.classList.remove('selected');
    const tr = rows.get(id);
    if (tr) tr.classList.add('selected');
  });
  for (const el of Object.values(filters)) el.addEventListener('input', () => applyFilters());
  // Ages move on by themselves.
  setInterval(() => {
    const now = Date.now();
    for (const tr of rows.values()) {
      const cell = tr.querySelector('.age');
      if (cell && !tr.hidden) cell.textContent = duration(now - Number(tr.dataset.created), t('unit.hour'));
    }
  }, 15_000);
  for (const id of store.incidents.keys()) dirty.add(id);
  render();

  const label = (el, key) => h('label', { class: 'filter' }, h('span', {}, t(key)), el);
  return h('section', { class: 'panel', id: 'incidents-panel', 'aria-labelledby': 'incidents-title' },
    h('h2', { id: 'incidents-title' }, t('incidents.title'), ' ', count),
    h('div', { class: 'filters' },
      label(filters.status, 'incident.status'), label(filters.urgency, 'incident.urgency'),
      label(filters.region, 'incident.region'), label(filters.text, 'filter.search')),
    h('div', { class: 'table-wrap' },
      h('table', { class: 'list' },
        h('thead', {}, h('tr', {},
          ['incident.urgency', 'incident.id', 'incident.region', 'incident.status', 'incident.address', 'incident.age', 'incident.units']
            .map((k) => h('th', { scope: 'col' }, t(k))))),
        body)));
}
