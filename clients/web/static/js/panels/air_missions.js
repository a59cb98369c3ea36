// The AMK-LA's air missions, for the coordinator at the centre that serves an AMK-LA
// region: every air ambulance request another AMK sent, answered here, accepted with the
// aircraft and the base doctor who decided to fly, or declined with the reason (it goes
// back to the requesting dispatcher). An accepted mission can be stood down before the
// aircraft reaches the patient. The missions come with the live stream (`air`); the
// aircraft's own status is the units panel's, as for any unit. A mission's facts are
// redrawn as it changes, its forms only when its state does, so nobody loses what they
// were typing. Above the missions, the region's aircraft and their readiness
// (`air_fleet.js`); a mission clicked on the map is brought into view here.
import { AIRCRAFT, ENDED, INBOUND, readiness, servedAirRegions, withdrawalLateness } from '../air.js';
import { greatCircleKm, h, throttled, timeOfDay, when } from '../dom.js';
import { field, hidden, input, rpcForm, textarea } from '../forms.js';
import { en, t } from '../i18n.js';
import { can, regionName } from '../session.js';
import { applyAir, callSign, on, store } from '../state.js';
import { airFleet } from './air_fleet.js';

/** The panel, or null for a role that may not list air missions. */
export function airMissionsPanel() {
  if (!can('AirListMissions')) return null;
  const none = h('p', { class: 'empty', id: 'air-none' }, t('airdesk.none'));
  const open = h('ul', { class: 'air-missions', id: 'air-open' });
  const ended = h('ul', { class: 'air-missions', id: 'air-ended' });
  const endedBox = h('details', { hidden: true }, h('summary', {}, t('airdesk.ended')), ended);
  const fleet = airFleet();
  const panel = h('section', { class: 'panel', id: 'air-missions', 'aria-labelledby': 'air-title' },
    h('h2', { id: 'air-title' }, t('airdesk.title')), fleet.el, none, open, endedBox);
  const items = new Map(); // mission id -> { li, facts, forms, state }
  let served = new Set(); // the AMK-LA regions the person's centre owns now

  /** Shown only while the person's centre serves an AMK-LA region now (a failover or a
   * hand-over moves the coordination, and the panel with it). */
  function showIfServing() {
    served = servedAirRegions();
    panel.hidden = served.size === 0;
    fleet.draw(served);
  }

  /** A mission chosen on the map (an open one): its line marked and brought into view. */
  function select(id) {
    const item = items.get(id);
    if (!item) return;
    for (const other of items.values()) other.li.classList.toggle('selected', other === item);
    item.li.scrollIntoView({ block: 'nearest' });
  }

  /** `li` at position `i` of `list`, moved only if it is elsewhere: moving the element
   * that holds the focus would take it from the person typing in its form. */
  function place(list, li, i) {
    if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null);
  }

  function draw(missions) {
    const seen = new Set();
    const at = { open: 0, ended: 0 };
    for (const m of missions) {
      seen.add(m.id);
      let item = items.get(m.id);
      if (!item) {
        item = { li: h('li', { class: 'air-mission' }), facts: h('div', { class: 'air-facts' }), forms: h('div', { class: 'air-forms' }), state: null, refill: null };
        item.li.append(item.facts, item.forms);
        items.set(m.id, item);
      }
      item.li.dataset.missionId = m.id;
      item.li.dataset.state = m.state;
      item.facts.replaceChildren(...facts(m));
      if (item.state !== m.state) {
        const [built, refill] = forms(m);
        item.forms.replaceChildren(...built);
        item.refill = refill;
        item.state = m.state;
      }
      const where = ENDED.has(m.state) ? 'ended' : 'open';
      place(where === 'ended' ? ended : open, item.li, at[where]++); // in the server's order
    }
    for (const [id, item] of items) {
      if (!seen.has(id)) {
        item.li.remove();
        items.delete(id);
      }
    }
    none.hidden = open.children.length > 0;
    endedBox.hidden = ended.children.length === 0;
  }

  /** An answer shows at once; the next `air` event brings the same or newer. */
  function took(mission) {
    applyAir({ missions: [mission] }, false);
  }

  /** The forms for `m`'s state, and how to refill its aircraft list (or null). */
  function forms(m) {
    const out = [];
    let refill = null;
    if (m.state === 'AIR_MISSION_STATE_REQUESTED' && can('AnswerAirRequest')) {
      const aircraft = aircraftSelect(m);
      refill = aircraft.refill;
      out.push(rpcForm('AnswerAirRequest', [
        hidden('mission_id', m.id), hidden('decision', 'AIR_DECISION_ACCEPT'),
        field('unit_id', t('airdesk.aircraft'), aircraft.select),
        field('base_doctor', t('airdesk.base_doctor'), input({ maxlength: 200 })),
      ], { submit: t('airdesk.accept'), done: took, extraClass: 'air-accept' }));
      out.push(rpcForm('AnswerAirRequest', [
        hidden('mission_id', m.id), hidden('decision', 'AIR_DECISION_DECLINE'),
        field('reason', t('airdesk.decline_reason'), textarea({ maxlength: 2000 })),
        field('base_doctor', t('airdesk.base_doctor_optional'), input({ maxlength: 200 })),
      ], { submit: t('airdesk.decline'), done: took, extraClass: 'air-decline' }));
    }
    if (INBOUND.has(m.state) && can('AirAbortMission')) { // stood down before it lands
      out.push(rpcForm('AirAbortMission', [
        hidden('mission_id', m.id),
        field('reason', t('airdesk.abort_reason'), textarea({ maxlength: 2000 })),
      ], { submit: t('airdesk.abort'), done: took, extraClass: 'air-abort' }));
    }
    for (const f of out) f.dataset.escape = 'reset';
    return [out, refill];
  }

  on('air', (missions) => {
    draw(missions);
    fleet.draw(served);
  });
  on('air-select', select);
  // An aircraft that becomes free (or busy) changes the lists of missions waiting; its
  // call sign may also have come after the missions did.
  on('units', throttled(() => {
    draw(store.air);
    fleet.draw(served);
    for (const item of items.values()) item.refill?.();
  }, 500));
  on('owners', showIfServing);
  showIfServing();
  draw(store.air);
  return panel;
}

function facts(m) {
  const at = (ts) => timeOfDay(ts);
  const lines = [
    h('strong', {}, en(m.kind)), ' · ', h('span', { class: 'air-state' }, en(m.state)), ' · ',
    h('span', { class: 'mono' }, m.incident_id), ` ${t('airdesk.from')} ${regionName(m.incident_region)}`,
    m.urgency && m.urgency !== 'URGENCY_UNSPECIFIED' ? ` · ${en(m.urgency)}` : '',
    m.criteria_code ? ` · ${m.criteria_code}` : '',
  ];
  const detail = [
    m.address,
    m.reason ? `«${m.reason}»` : '',
    t('airdesk.requested', { who: m.requested_by || '–', time: at(m.requested_at) }),
    m.unit_id ? `${callSign(m.unit_id)}` : '',
    m.base_doctor ? t('airdesk.doctor', { name: m.base_doctor }) : '',
    m.decline_reason ? t('airdesk.declined', { reason: m.decline_reason }) : '',
    // Aborted by the coordinator: by whom and why (a withdrawal has its own line).
    m.state === 'AIR_MISSION_STATE_ABORTED' ? abortNote(m) : '',
    m.closed_at ? t('airdesk.closed', { time: at(m.closed_at) }) : '',
    m.reported ? '' : t('airdesk.not_reported'),
  ].filter(Boolean);
  return [h('div', {}, lines), h('div', { class: 'meta' }, detail.join(' · ')), withdrawal(m)].filter(Boolean);
}

/** The requesting AMK's withdrawal, if any: when, who, why; one that came after the
 * aircraft reached the patient (the mission went on) is marked too late, one after the
 * mission had ended says so (the withdrawal's answer, as the requesting side has it). */
export function withdrawal(m) {
  if (!m.withdrawn_at) return null;
  const answer = m.withdrawal_answer || 'AIR_MISSION_STATE_UNSPECIFIED';
  const lateness = withdrawalLateness(answer);
  const late = lateness === 'too_late' ? t('airdesk.withdrawn_too_late')
    : lateness === 'after_end' ? t('airdesk.withdrawn_after_end', { state: en(answer) }) : '';
  return h('div', { class: 'air-withdrawn', dataset: { late: String(Boolean(late)) } },
    t('airdesk.withdrawn', {
      region: regionName(m.incident_region), time: timeOfDay(m.withdrawn_at),
      who: m.withdrawn_by || '–', reason: m.withdrawal_reason || '',
    }),
    late ? [' · ', h('strong', {}, late)] : null);
}

/** Why the mission was aborted: the note of its abort, unless the requesting AMK's
 * withdrawal did it (that has its own line); a coordinator's abort before a withdrawal
 * keeps its note. */
function abortNote(m) {
  const withdrawn = m.withdrawn_at ? when(m.withdrawn_at) : Infinity;
  const abort = (m.events || []).find((e) => e.state === 'AIR_MISSION_STATE_ABORTED');
  return abort && when(abort.at) < withdrawn ? abort.note || '' : '';
}

/** The region's aircraft free to fly, the kind asked for first: the select, and its
 * refill (on every change of units, and when it is opened). */
function aircraftSelect(m) {
  const el = h('select', {});
  const fill = () => {
    const keep = el.value;
    // The kind asked for first, then the nearest to the patient (as the crow flies: the
    // base decides; the list only puts the likely choice on top), then by call sign.
    const km = (u) => greatCircleKm(u.position, m.position);
    const free = [...store.units.values()]
      .filter((u) => u.region === m.region && AIRCRAFT.has(u.kind) && readiness(u) === 'ready')
      .sort((a, b) => (a.kind === m.kind ? 0 : 1) - (b.kind === m.kind ? 0 : 1)
        || km(a) - km(b) || callSign(a.id).localeCompare(callSign(b.id)));
    // A chosen aircraft that is no longer free stays chosen, marked: the server's answer
    // then says why, instead of the choice silently becoming "none".
    const gone = keep && !free.some((u) => u.id === keep);
    const options = [h('option', { value: '' }, '–'),
      ...free.map((u) => h('option', { value: u.id },
        [callSign(u.id), en(u.kind), Number.isFinite(km(u)) ? `${Math.round(km(u))} km` : ''].filter(Boolean).join(' · ')))];
    if (gone) options.push(h('option', { value: keep }, `${callSign(keep)} · ${t('airdesk.busy')}`));
    el.replaceChildren(...options);
    el.value = keep || '';
  };
  fill();
  el.addEventListener('focus', fill);
  el.addEventListener('mousedown', fill);
  // Not while it is open: replacing its options would close it under the person's hand.
  return { select: el, refill: () => { if (document.activeElement !== el) fill(); } };
}
