// The selected incident: what it holds, and what can be done with it (telephone-guided
// CPR, triage with the criteria list, a better place, a note, a status, releasing an
// assigned unit, alerting partners, asking for an aircraft, pre-notifying a hospital,
// looking for earlier incidents at its place).
// Its facts are redrawn as it changes; its forms are not, so nobody loses what they were
// typing.
import { aircraftOn } from '../air.js';
import { rpc, rpcWithReason } from '../api.js';
import { opened, remember } from '../break_glass.js';
import { desk, onSelectIncident } from '../desk.js';
import { duration, fill, h, timeOfDay, when } from '../dom.js';
import { act, errorSlot, field, hidden, rpcForm, select, textarea } from '../forms.js';
import { en, t } from '../i18n.js';
import { URGENCY_COLOUR } from '../map_symbols.js';
import { can, regionName } from '../session.js';
import { callSign, on, putIncident, putUnit, store } from '../state.js';
import { airForm, alertForm, alertList } from './alerts.js';
import { cprBlock, cprKey } from './cpr.js';
import { criteriaPicker } from './criteria.js';
import { earlierHere } from './earlier_here.js';
import { preNotifyForm } from './prenotify.js';
import { relocateForm } from './relocate.js';
import { INCIDENT_STATUSES } from './incidents.js';

export function incidentDetailPanel() {
  const body = h('div', { class: 'detail-body' }, h('p', { class: 'empty' }, t('detail.none')));
  const panel = h('section', { class: 'panel', id: 'incident-detail', 'aria-labelledby': 'detail-title' },
    h('h2', { id: 'detail-title' }, t('detail.title')), body);
  let facts = null;
  let shownId = null;
  let picker = null;

  onSelectIncident(({ id }) => show(id));
  on('incidents', (ids) => {
    if (!shownId || !ids.has(shownId) || !facts) return;
    drawFacts(facts, shownId);
    // Selected before the page had it (the desk's other window, a fetch): its place came.
    if (!body.querySelector('.earlier-here')) {
      const here = earlierHere(shownId);
      if (here) body.append(here);
    }
  });
  on('units', (ids) => {
    const assigned = store.incidents.get(shownId)?.assigned_unit_ids || [];
    if (facts && assigned.some((u) => ids.has(u))) drawFacts(facts, shownId);
  });
  // Alt+T: triage the selected incident, starting in the criteria search.
  on('shortcut-triage', () => {
    if (!picker) return;
    picker.element.scrollIntoView({ block: 'start' }); // the list below the field too
    picker.search.focus({ preventScroll: true });
  });

  function show(id) {
    shownId = id;
    panel.dataset.incidentId = id || '';
    if (!id) {
      body.replaceChildren(h('p', { class: 'empty' }, t('detail.none')));
      facts = null;
      picker = null;
      return;
    }
    facts = h('div', { class: 'facts' });
    drawFacts(facts, id);
    const forms = [];
    if (can('TriageIncident')) {
      const code = h('input', { type: 'text', class: 'mono', autocomplete: 'off' });
      picker = criteriaPicker(code);
      forms.push(rpcForm('TriageIncident', [
        hidden('incident_id', id), errorSlot('incident_id'),
        picker.element,
        field('criteria_code', t('incident.criteria_code'), code),
      ], { done: putIncident, extraClass: 'triage' }));
    } else {
      picker = null;
    }
    if (can('ChangeIncidentStatus')) {
      forms.push(rpcForm('ChangeIncidentStatus', [
        hidden('incident_id', id), errorSlot('incident_id'),
        field('status', t('incident.status'), select(INCIDENT_STATUSES.map((s) => [s, en(s)]), { blank: '–' })),
      ], { done: putIncident, extraClass: 'inline' }));
    }
    if (can('SendAlert')) forms.push(alertForm(id));
    if (can('RequestAirAmbulance')) forms.push(airForm(id));
    if (can('SendPreNotification')) forms.push(preNotifyForm(id));
    if (can('ChangeIncidentLocation')) forms.push(relocateForm(id));
    if (can('AddIncidentNote')) {
      forms.push(rpcForm('AddIncidentNote', [
        hidden('incident_id', id), errorSlot('incident_id'),
        field('text', t('detail.note'), textarea({ maxlength: 2000 })),
      ], { done: putIncident, reset: true }));
    }
    for (const f of forms) f.dataset.escape = 'reset';
    const here = earlierHere(id);
    body.replaceChildren(facts, ...forms, ...(here ? [here] : []));
  }

  /** Opened with break-glass: the reason, that it is logged and not live, and a fetch. */
  function glassBanner(id) {
    const glass = opened.get(id);
    if (!glass) return null;
    const again = h('button', { type: 'button', class: 'small secondary', dataset: { action: 'GetIncident' } }, t('breakglass.refresh'));
    const err = h('span', { class: 'form-error' });
    again.addEventListener('click', () => act(again, err, async () => {
      const inc = await rpc('GetIncident', { incident_id: id });
      remember(id, glass.reason);
      putIncident(inc);
    }));
    return h('div', { class: 'break-glass-banner', role: 'status' },
      h('strong', {}, t('breakglass.banner')), ' ', `«${glass.reason}»`, ' · ',
      t('breakglass.fetched', { time: new Date(glass.fetchedAt).toLocaleTimeString('nb-NO', { hour12: false }) }),
      ' ', again, err);
  }

  function drawFacts(el, id) {
    const inc = store.incidents.get(id);
    if (!inc) {
      el.parts = null;
      fill(el, glassBanner(id), h('p', { class: 'empty' }, t('detail.waiting', { id })));
      return;
    }
    // Three parts; the CPR block's is replaced only when what it shows changed (its
    // beat would restart, and a refusal beside its button go, on every unit update).
    if (!el.parts) {
      el.parts = { head: h('div'), cpr: h('div', { class: 'cpr-slot' }), rest: h('div'), key: null };
      el.replaceChildren(el.parts.head, el.parts.cpr, el.parts.rest);
    }
    const parts = el.parts;
    const key = cprKey(inc);
    if (parts.key !== key) {
      parts.key = key;
      fill(parts.cpr, cprBlock(inc));
    }
    const pos = inc.position;
    const row = (key, value) => [h('dt', {}, t(key)), h('dd', {}, value)];
    const units = (inc.assigned_unit_ids || []).map((uid) => {
      const unit = store.units.get(uid);
      const li = h('li', { dataset: { unitId: uid } },
        `${callSign(uid)} · ${unit ? en(unit.status) : ''}`);
      if (can('ReleaseUnit')) {
        const b = h('button', { type: 'button', class: 'small secondary', dataset: { action: 'ReleaseUnit' } }, t('action.ReleaseUnit'));
        const err = h('span', { class: 'form-error' });
        b.addEventListener('click', () => act(b, err, async () => {
          // A patient aboard: only with where the patient went (kept in a note); asked
          // again if the page had not yet seen the unit set off with its patient.
          const askReason = () => window.prompt(t('detail.release_reason', { unit: callSign(uid) })) || '';
          let reason = '';
          if (store.units.get(uid)?.status === 'UNIT_STATUS_TRANSPORTING') {
            reason = askReason();
            if (!reason.trim()) return;
          }
          const a = await rpcWithReason('ReleaseUnit', { incident_id: id, unit_id: uid, reason }, askReason);
          if (!a) return;
          putIncident(a.incident);
          putUnit(a.unit);
        }));
        li.append(' ', b, err);
      }
      return li;
    });
    // Its aircraft too: sent by the AMK-LA, freed by its own mission (withdraw the
    // request in the alerts below), so listed without a release button.
    for (const a of aircraftOn(inc)) {
      units.push(h('li', { class: 'aircraft', dataset: { unitId: a.aircraft_unit_id } },
        `${callSign(a.aircraft_unit_id)} · ${en(a.mission_state)} · ${t('detail.by_air')}`));
    }
    const notes = (inc.notes || []).map((n) => h('li', {}, h('span', { class: 'meta' }, `${timeOfDay(n.at)} ${n.author || ''}: `), n.text));
    fill(parts.head,
      glassBanner(id),
      h('h3', {},
        h('span', { class: 'dot', style: `background:${URGENCY_COLOUR[inc.urgency] || URGENCY_COLOUR.URGENCY_UNSPECIFIED}` }),
        `${inc.urgency === 'URGENCY_UNSPECIFIED' ? t('map.untriaged') : en(inc.urgency)} · `,
        h('span', { class: 'mono' }, inc.id)));
    fill(parts.rest,
      h('dl', { class: 'facts-list' },
        row('incident.status', en(inc.status)),
        row('incident.region', regionName(inc.region)),
        row('incident.address', inc.address || '–'),
        row('incident.position', pos ? `${pos.lat.toFixed(5)}, ${pos.lon.toFixed(5)}` : '–'),
        row('incident.caller_number', inc.caller_number || '–'),
        row('incident.criteria_code', inc.criteria_code || '–'),
        [h('dt', {}, t('incident.age')), h('dd', { class: 'age', dataset: { created: String(when(inc.created_at)) } },
          duration(Date.now() - when(inc.created_at), t('unit.hour')))]),
      h('h4', {}, t('detail.units')),
      units.length ? h('ul', { class: 'assigned' }, units) : h('p', { class: 'empty' }, t('detail.no_units')),
      h('h4', {}, t('alerts.title')),
      alertList(inc),
      notes.length ? [h('h4', {}, t('incident.notes')), h('ul', { class: 'notes' }, notes)] : null);
  }

  // The age moves on by itself, as in the list (drawn once, it said "0 s" for good).
  setInterval(() => {
    const cell = panel.querySelector('dd.age');
    if (cell) cell.textContent = duration(Date.now() - Number(cell.dataset.created), t('unit.hour'));
  }, 5_000);
  if (desk.incident) show(desk.incident);
  return panel;
}
