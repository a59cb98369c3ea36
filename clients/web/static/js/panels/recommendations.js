// Recommended units for the selected incident (RecommendUnits): rank, unit, ETA,
// distance and the reason in words; one click (or Alt+1..9) assigns one (AssignUnit).
// Below them, units on their way to a less urgent incident, which one click diverts
// here (DivertUnit): no shortcut, so that Alt+1..9 only ever sends a free unit.
import { rpc, rpcWithReason } from '../api.js';
import { desk, onSelectIncident } from '../desk.js';
import { h, travel } from '../dom.js';
import { act } from '../forms.js';
import { en, language, num, t } from '../i18n.js';
import { can } from '../session.js';
import { on, putIncident, putUnit, store } from '../state.js';

/** The recommendation's reason and note in the console's language (the server writes
 * both: actors/domain/phrases.py), English where the Norwegian is missing. */
function words(rec) {
  const nb = language() === 'nb';
  return {
    reason: (nb && rec.reason_nb) || rec.reason || '',
    note: (nb && rec.note_nb) || rec.note || '',
  };
}

/** The rule that put the unit on the list, then how its ETA was worked out, folded:
 * the sum with every number ("vei 13,1 km (...) + 90 s utrykning ...") ran over five
 * lines in its column, so ten recommendations did not fit on the screen. */
function reasonCell(rec) {
  const { reason, note } = words(rec);
  return [
    note ? h('small', { class: 'note' }, note) : null,
    reason ? h('details', { class: 'reason-sum' }, h('summary', {}, t('recs.how')), reason) : null,
  ];
}

export function recommendationsPanel() {
  const body = h('tbody', { id: 'recommendations' });
  const error = h('div', { class: 'form-error', role: 'alert' });
  const info = h('p', { class: 'hint', role: 'status' }, t('recs.none_selected'));
  const button = can('RecommendUnits')
    ? h('button', { type: 'button', dataset: { action: 'RecommendUnits' }, 'aria-keyshortcuts': 'Alt+R' }, t('action.RecommendUnits'))
    : null;

  const diversions = h('tbody', { id: 'diversions' });
  const divertTitle = h('h3', { hidden: true }, t('recs.diversions'));
  const divertWrap = h('div', { class: 'table-wrap', hidden: true },
    h('table', { class: 'list' }, diversions));

  function showDiversions(incidentId, recs) {
    diversions.replaceChildren(...recs.map((r) => divertRow(incidentId, r)));
    divertTitle.hidden = divertWrap.hidden = !recs.length;
  }

  async function load() {
    const id = desk.incident;
    body.replaceChildren();
    showDiversions(id, []);
    if (!id) {
      info.textContent = t('recs.none_selected');
      return;
    }
    info.textContent = t('recs.loading', { id });
    const res = await rpc('RecommendUnits', { incident_id: id, limit: 10 });
    if (desk.incident !== id) return; // another incident was selected meanwhile
    const recs = res.recommendations || [];
    info.textContent = recs.length ? t('recs.for', { id }) : t('recs.empty', { id });
    body.replaceChildren(...recs.map((r, i) => row(id, r, i)));
    showDiversions(id, res.diversions || []);
  }

  function divertRow(incidentId, rec) {
    const unit = rec.unit || {};
    const from = store.incidents.get(unit.incident_id);
    const cells = [
      h('td', {}, h('strong', {}, unit.call_sign || unit.id), h('br'), h('small', {}, `${en(unit.kind)} · ${en(unit.status)}`)),
      h('td', { class: 'leaving' }, t('recs.leaving', { id: unit.incident_id }),
        from ? h('small', {}, ` (${en(from.urgency)})`) : null),
      h('td', { class: 'eta' }, travel(Number(rec.eta_s))),
      h('td', {}, `${num(rec.distance_km)} km`),
      h('td', { class: 'reason' }, reasonCell(rec)),
    ];
    if (can('DivertUnit')) {
      const name = unit.call_sign || unit.id;
      const b = h('button', {
        type: 'button', class: 'small secondary', dataset: { action: 'DivertUnit' },
        'aria-label': t('recs.divert_label', { unit: name, from: unit.incident_id, incident: incidentId }),
      }, t('action.DivertUnit'));
      b.addEventListener('click', () => act(b, error, async () => {
        const ask = { incident_id: incidentId, unit_id: unit.id, from_incident_id: unit.incident_id };
        // The urgencies may have changed since the list was asked: a reason is required then.
        const a = await rpcWithReason('DivertUnit', ask, () =>
          window.prompt(t('recs.divert_reason', { unit: name, from: unit.incident_id, incident: incidentId })) || '');
        if (!a) return;
        putIncident(a.incident);
        putIncident(a.from_incident);
        putUnit(a.unit);
        await load();
        const left = a.from_incident && (a.from_incident.assigned_unit_ids || []).length === 0;
        info.textContent = t(left ? 'recs.diverted_waits' : 'recs.diverted', { unit: name, from: unit.incident_id, id: incidentId });
      }));
      cells.push(h('td', {}, b));
    }
    return h('tr', { dataset: { unitId: unit.id, from: unit.incident_id } }, cells);
  }

  function row(incidentId, rec, index) {
    const unit = rec.unit || {};
    const cells = [
      h('td', {}, String(rec.rank || index + 1)),
      h('td', {}, h('strong', {}, unit.call_sign || unit.id), h('br'), h('small', {}, `${en(unit.kind)} · ${en(unit.status)}`)),
      h('td', { class: 'eta' }, travel(Number(rec.eta_s))),
      h('td', {}, `${num(rec.distance_km)} km`, h('br'), h('small', {}, rec.mode ? t(`mode.${rec.mode}`) : '')),
      h('td', { class: 'reason' }, reasonCell(rec)),
    ];
    if (can('AssignUnit')) {
      const b = h('button', {
        type: 'button', class: 'primary small', dataset: { action: 'AssignUnit' },
        'aria-keyshortcuts': index < 9 ? `Alt+${index + 1}` : null,
        'aria-label': t('recs.assign_label', { unit: unit.call_sign || unit.id, incident: incidentId }),
      }, index < 9 ? `${t('action.AssignUnit')} (${index + 1})` : t('action.AssignUnit'));
      b.addEventListener('click', () => act(b, error, async () => {
        const a = await rpc('AssignUnit', { incident_id: incidentId, unit_id: unit.id });
        putIncident(a.incident);
        putUnit(a.unit);
        // The list is stale now (the unit is taken, the incident moved on): ask again, so
        // Alt+1..9 and the ranks shown stay true.
        await load();
        info.textContent = t('recs.assigned', { unit: unit.call_sign || unit.id, id: incidentId });
      }));
      cells.push(h('td', {}, b));
    }
    return h('tr', { dataset: { unitId: unit.id, rank: rec.rank || index + 1 } }, cells);
  }

  if (button) button.addEventListener('click', () => act(button, error, load));
  onSelectIncident(() => {
    error.textContent = '';
    body.replaceChildren();
    showDiversions(desk.incident, []);
    // A dispatcher wants the list at once; others ask for it (Alt+R).
    if (button && can('AssignUnit') && desk.incident) act(button, error, load);
    else info.textContent = desk.incident ? t('recs.ask', { id: desk.incident }) : t('recs.none_selected');
  });
  // The selected incident moved (ChangeIncidentLocation): the ranks shown are for the old
  // place, and Alt+1 would send the unit nearest to it. Ask again, or clear the list.
  let placeOf = '';
  on('incidents', (ids) => {
    const id = desk.incident;
    const inc = id && ids.has(id) ? store.incidents.get(id) : null;
    if (!inc) return;
    const place = JSON.stringify(inc.position || null);
    const moved = placeOf && place !== placeOf;
    placeOf = place;
    if (!moved || (!body.children.length && !diversions.children.length)) return;
    if (button && can('AssignUnit')) act(button, error, load);
    else { body.replaceChildren(); showDiversions(id, []); info.textContent = t('recs.ask', { id }); }
  });
  onSelectIncident(() => { placeOf = JSON.stringify(store.incidents.get(desk.incident)?.position || null); });
  // The panel may be far down the page: shown first, so that no unit is sent that the
  // dispatcher has not seen. Alt+1..9 assigns only a row on screen; off screen, the
  // first press brings it into view and says so, the second assigns.
  on('shortcut-recommend', () => {
    panelEl.scrollIntoView({ block: 'start' });
    button?.click();
  });
  on('shortcut-assign', (n) => {
    const b = body.querySelectorAll('button[data-action=AssignUnit]')[n - 1];
    if (!b) return;
    const row = b.closest('tr');
    const box = row.getBoundingClientRect();
    // Within the scrolling column it sits in (under the header is not on screen), and
    // within the window.
    const view = row.closest('.column')?.getBoundingClientRect() ?? { top: 0, bottom: window.innerHeight };
    if (box.top < Math.max(view.top, 0) || box.bottom > Math.min(view.bottom, window.innerHeight)) {
      row.scrollIntoView({ block: 'center' });
      info.textContent = t('recs.shown_press_again', { n });
      return;
    }
    b.click();
  });

  const heads = ['recs.rank', 'recs.unit', 'recs.eta', 'recs.distance', 'recs.reason'];
  if (can('AssignUnit')) heads.push('recs.assign');
  const panelEl = h('section', { class: 'panel', id: 'recommendations-panel', 'aria-labelledby': 'recs-title' },
    h('h2', { id: 'recs-title' }, t('recs.title')),
    h('div', { class: 'toolbar' }, button, info),
    error,
    h('div', { class: 'table-wrap' },
      h('table', { class: 'list' },
        h('thead', {}, h('tr', {}, heads.map((k) => h('th', { scope: 'col' }, t(k))))),
        body)),
    divertTitle,
    divertWrap);
  return panelEl;
}
