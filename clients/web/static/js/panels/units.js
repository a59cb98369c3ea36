// The units: kind, call sign, region, status and incident, with filters; the selected
// unit's status can be changed (ChangeUnitStatus), by the desk also with the time a crew
// said it happened. Rows are kept by id, as the incidents'.
import { onSelectUnit, selectUnit } from '../desk.js';
import { h, throttled } from '../dom.js';
import { field, hidden, rpcForm, select } from '../forms.js';
import { en, t } from '../i18n.js';
import { UNIT_KIND_SYMBOL, unitIcon } from '../map_symbols.js';
import { can, inHealthRegion, regionById, session } from '../session.js';
import { markDrawn, on, putUnit, store } from '../state.js';

export const UNIT_STATUSES = ['AVAILABLE_AT_STATION', 'AVAILABLE_MOBILE', 'ASSIGNED', 'EN_ROUTE', 'ON_SCENE',
  'TRANSPORTING', 'AT_HOSPITAL', 'OUT_OF_SERVICE'].map((s) => `UNIT_STATUS_${s}`);
const KINDS = Object.keys(UNIT_KIND_SYMBOL).filter((k) => k !== 'UNIT_KIND_UNSPECIFIED');

/** Roles that may enter a status after the fact (the gateway's LATE_ENTRY_ROLES). */
const LATE_ENTRY = new Set(['dispatcher', 'supervisor']);

/** `occurred_at` from the form's HH:MM, local time: today, or yesterday for a time
 * still to come (a report from before midnight, typed after it; the server takes only
 * the last 2 hours, so the day is never in doubt). */
function withOccurredAt(body, form) {
  const hhmm = form.querySelector('input[type=time]')?.value;
  if (!hhmm) return body;
  const [hour, minute, second = 0] = hhmm.split(':').map(Number); // seconds, if given
  const now = new Date();
  const at = new Date(now.getFullYear(), now.getMonth(), now.getDate(), hour, minute, second);
  if (at.getTime() > now.getTime() + 60_000) at.setDate(at.getDate() - 1);
  return { ...body, occurred_at: at.toISOString() };
}

export function unitsPanel() {
  const body = h('tbody', { id: 'units' });
  const count = h('span', { class: 'count' });
  const selected = h('div', { class: 'unit-selected' });
  const filters = {
    status: h('select', { id: 'filter-unit-status' }, h('option', { value: '' }, t('filter.all')),
      h('option', { value: 'available' }, t('filter.available')),
      UNIT_STATUSES.map((s) => h('option', { value: s }, en(s)))),
    kind: h('select', { id: 'filter-unit-kind' }, h('option', { value: '' }, t('filter.all')),
      KINDS.map((k) => h('option', { value: k }, en(k)))),
    text: h('input', { id: 'filter-unit-text', type: 'search', placeholder: t('filter.search_placeholder') }),
  };
  const rows = new Map();
  const dirty = new Set();

  const render = throttled(() => {
    let added = false;
    for (const id of dirty) added = updateRow(id) || added;
    // With no map on this screen (?screen=lists) the list is where a change is drawn.
    if (!session.hasMap) markDrawn(dirty, performance.now());
    dirty.clear();
    if (added) body.append(...[...rows.values()].sort((a, b) => a.dataset.sort.localeCompare(b.dataset.sort)));
    applyFilters();
  }, 250);

  function updateRow(id) {
    const unit = store.units.get(id);
    let tr = rows.get(id);
    if (!unit) {
      tr?.remove();
      rows.delete(id);
      return false;
    }
    let added = false;
    if (!tr) {
      tr = h('tr', { tabindex: '0', dataset: { unitId: id } });
      tr.addEventListener('click', () => selectUnit(id));
      tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') selectUnit(id); });
      rows.set(id, tr);
      added = true;
    }
    tr.dataset.status = unit.status;
    tr.dataset.kind = unit.kind;
    tr.dataset.region = unit.region;
    tr.dataset.sort = `${unit.region} ${unit.call_sign || unit.id}`;
    tr.dataset.text = `${unit.id} ${unit.call_sign || ''} ${unit.station || ''} ${unit.incident_id || ''}`.toLowerCase();
    tr.replaceChildren(
      h('td', {}, unitIcon(unit.kind, unit.status)),
      h('td', {}, h('strong', {}, unit.call_sign || unit.id)),
      h('td', {}, regionById(unit.region)?.code || unit.region),
      h('td', {}, en(unit.status)),
      h('td', { class: 'mono' }, unit.incident_id || ''),
      // Cut at the column's width: "Fagernes ambulansestasjon (V…"; the whole name on hover.
      h('td', { class: 'station', title: unit.station || null }, unit.station || ''));
    return added;
  }

  function applyFilters() {
    const status = filters.status.value;
    const kind = filters.kind.value;
    const text = filters.text.value.trim().toLowerCase();
    let shown = 0;
    for (const tr of rows.values()) {
      const st = tr.dataset.status;
      const ok = (!status || (status === 'available' ? st.startsWith('UNIT_STATUS_AVAILABLE') : st === status))
        && (!kind || tr.dataset.kind === kind) && (!text || tr.dataset.text.includes(text))
        && inHealthRegion(tr.dataset.region);
      tr.hidden = !ok;
      if (ok) shown += 1;
    }
    count.textContent = t('list.count', { shown, total: rows.size });
  }

  const nowLine = (unit) => `${en(unit.status)} · ${unit.station || ''} · ${regionById(unit.region)?.name || unit.region}`;

  function showSelected(id) {
    for (const tr of body.querySelectorAll('tr.selected')) tr.classList.remove('selected');
    rows.get(id)?.classList.add('selected');
    const unit = store.units.get(id);
    if (!id || !unit) {
      selected.replaceChildren();
      return;
    }
    const parts = [h('h3', {}, `${unit.call_sign || unit.id} · ${en(unit.kind)}`),
      h('p', { class: 'unit-now', dataset: { unitId: id } }, nowLine(unit))];
    if (can('ChangeUnitStatus')) {
      // A crew's status told on the radio and typed later: when it happened (today,
      // HH:MM), which the review reads. The desk's entry, not the crew's.
      const late = LATE_ENTRY.has(session.me.role)
        ? field('occurred_at', t('unit.occurred_at'), h('input', { type: 'time', dataset: { collect: 'no' } }), t('unit.occurred_at_hint'))
        : null;
      const form = rpcForm('ChangeUnitStatus', [
        hidden('unit_id', id),
        field('status', t('unit.new_status'), select(UNIT_STATUSES.map((s) => [s, en(s)]), { value: unit.status })),
        late,
      ], {
        // The time is this entry's: the next status of the unit happens later.
        done: (u, f) => { putUnit(u); const time = f.querySelector('input[type=time]'); if (time) time.value = ''; },
        extraClass: 'inline',
        build: (body, f) => withOccurredAt(body, f),
      });
      form.dataset.escape = 'reset';
      parts.push(form);
    }
    selected.replaceChildren(...parts);
  }

  // The selected unit's line follows it (its crew's statuses, a release); the form's
  // choice is left alone, it may be half filled.
  on('units', (ids) => {
    for (const id of ids) dirty.add(id);
    render();
    const line = selected.querySelector('p.unit-now');
    if (!line || !ids.has(line.dataset.unitId)) return;
    const unit = store.units.get(line.dataset.unitId);
    if (unit) line.textContent = nowLine(unit);
    else selected.replaceChildren(); // left the board (removed, lent away): nothing to act on
  });
  on('health-region', () => applyFilters());
  onSelectUnit(({ id }) => showSelected(id));
  for (const el of Object.values(filters)) el.addEventListener('input', applyFilters);
  for (const id of store.units.keys()) dirty.add(id);
  render();

  const label = (el, key) => h('label', { class: 'filter' }, h('span', {}, t(key)), el);
  return h('section', { class: 'panel', id: 'units-panel', 'aria-labelledby': 'units-title' },
    h('h2', { id: 'units-title' }, t('units.title'), ' ', count),
    h('div', { class: 'filters' }, label(filters.status, 'unit.status'), label(filters.kind, 'unit.kind'), label(filters.text, 'filter.search')),
    selected,
    h('div', { class: 'table-wrap' },
      h('table', { class: 'list' },
        h('thead', {}, h('tr', {}, ['unit.kind', 'unit.call_sign', 'incident.region', 'unit.status', 'unit.incident', 'unit.station']
          .map((k) => h('th', { scope: 'col' }, t(k))))),
        body)));
}

