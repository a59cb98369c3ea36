// The selected incident's alerts: 110 fire and 112 police (trippelvarsling), the
// legevakt (116117: proposed on every red response, or alerted by hand), air
// ambulance requests and hospital pre-notifications, as the incident record carries
// them. They are drawn from the record, so a partner's acknowledgement or an escalation
// (sent, not acknowledged in time: phone them) shows with the next live update, without
// a reload. A proposed alert (an action card matched the triage) is sent with one click;
// 110, 112 and the legevakt can also be alerted by hand, with a reason. An alert to them that was
// answered on the phone is recorded as acknowledged, with who answered. An alert not yet
// answered can be withdrawn (alerted in error, or the card matched but fire is already
// there): the browser asks first, with room for the reason, since the other centre is
// not told. An air ambulance request is withdrawn with its own button, until the
// aircraft is at the patient: the AMK-LA is told (retried until it answers), so the
// reason is asked for and required.
import { AIRCRAFT, AT_PATIENT, ENDED, withdrawalLateness } from '../air.js';
import { rpc } from '../api.js';
import { h, timeOfDay } from '../dom.js';
import { act, errorSlot, field, hidden, input, rpcForm, select, textarea } from '../forms.js';
import { en, t } from '../i18n.js';
import { can } from '../session.js';
import { callSign } from '../state.js';

/** The services a dispatcher alerts by hand here (an aircraft or a hospital is asked for
 * with its own request, which carries what that partner needs). */
export const BY_HAND = ['ALERT_SERVICE_FIRE_110', 'ALERT_SERVICE_POLICE_112', 'ALERT_SERVICE_LEGEVAKT_116117'];

/** States an alert can still be withdrawn from (alert_lifecycle.py's table). */
const OPEN = new Set(['ALERT_STATE_PROPOSED', 'ALERT_STATE_SENT', 'ALERT_STATE_ESCALATED']);
/** Sent and not answered yet: the other centre may not know. */
const AWAITING = new Set(['ALERT_STATE_SENT', 'ALERT_STATE_ESCALATED']);
/** Air missions that can no longer be withdrawn: at the patient, or over. */
const MISSION_PAST_WITHDRAWAL = new Set([...AT_PATIENT, ...ENDED]);

/** The alerts of incident `inc`, one line each, in the order they were proposed or sent. */
export function alertList(inc) {
  const alerts = inc.alerts || [];
  if (!alerts.length) return h('p', { class: 'empty', id: 'alerts-none' }, t('alerts.none'));
  return h('ul', { class: 'alerts' }, alerts.map((a) => alertItem(inc.id, a)));
}

function alertItem(incidentId, a) {
  const state = a.state || 'ALERT_STATE_UNSPECIFIED';
  const service = a.service || 'ALERT_SERVICE_UNSPECIFIED';
  const li = h('li', {
    class: `alert-item ${state === 'ALERT_STATE_ESCALATED' ? 'escalated' : ''}`,
    dataset: { alertId: a.id || '', service, state },
  },
  h('strong', {}, en(service)), partner(a), ' · ',
  h('span', { class: 'alert-state' }, en(state)),
  h('span', { class: 'meta' }, ` ${facts(a, state).join(' · ')}`),
  owed(a), airOwed(a));
  const err = h('span', { class: 'form-error' });
  // Each answer is the alert; the incident record that carries it comes on the stream and
  // redraws this line. Until it does, a button that worked stays disabled: a second click
  // on "send" would otherwise alert the partner again.
  const button = (action, run) => {
    const b = h('button', { type: 'button', class: 'small', dataset: { action } }, t(`action.${action}`));
    b.addEventListener('click', async () => {
      const answer = await run(b);
      if (answer !== undefined) b.disabled = true;
    });
    li.append(' ', b);
    return b;
  };
  if (state === 'ALERT_STATE_PROPOSED' && can('SendAlert')) {
    button('SendAlert', (b) => act(b, err, () => rpc('SendAlert', { incident_id: incidentId, service })));
  }
  if (AWAITING.has(state) && BY_HAND.includes(service) && can('AcknowledgeAlert')) {
    button('AcknowledgeAlert', (b) => {
      const by = window.prompt(t('alerts.ask_acknowledged_by', { service: en(service) }), '');
      if (by === null || !by.trim()) return undefined; // not answered: nothing to record
      return act(b, err, () => rpc('AcknowledgeAlert', { incident_id: incidentId, alert_id: a.id, acknowledged_by: by }));
    });
  }
  // A hospital that cannot be reached on line: the dispatcher phones, and records it.
  if (owes(a) && can('ConfirmPreNotificationByPhone')) {
    button('ConfirmPreNotificationByPhone', (b) => {
      const whom = window.prompt(t('alerts.ask_spoke_with'), '');
      if (whom === null) return undefined; // not phoned after all: nothing to record
      return act(b, err, () => rpc('ConfirmPreNotificationByPhone', { incident_id: incidentId, alert_id: a.id, spoke_with: whom }));
    });
  }
  if (withdrawable(a, state) && can('CancelAlert')) {
    button('WithdrawAirRequest', (b) => {
      const reason = window.prompt(t('alerts.confirm_withdraw_air'), '');
      if (reason === null) return undefined; // not withdrawn after all
      return act(b, err, () => rpc('CancelAlert', { incident_id: incidentId, alert_id: a.id, reason }));
    }).classList.add('secondary');
  }
  if (OPEN.has(state) && service !== 'ALERT_SERVICE_AIR_AMBULANCE' && can('CancelAlert')) {
    button('CancelAlert', (b) => {
      const reason = window.prompt(t('alerts.confirm_cancel', { service: en(service) }), '');
      if (reason === null) return undefined; // the dispatcher thought better of it
      return act(b, err, () => rpc('CancelAlert', { incident_id: incidentId, alert_id: a.id, reason }));
    }).classList.add('secondary');
  }
  li.append(err);
  return li;
}

/** A pre-notification whose hospital has not taken its latest document (the first,
 * an ETA update or the withdrawal): the owner keeps trying until it does, and the
 * dispatcher may phone the hospital rather than wait. Nothing for any other alert. */
function owed(a) {
  if (!owes(a)) return null;
  const due = a.prenotification.documents_due;
  const delivered = a.prenotification.documents_delivered || 0;
  return h('span', { class: 'alert-owed' }, ` · ${t('alerts.hospital_not_told', { delivered, due })}`);
}

/** A withdrawn air request the AMK-LA has not been told of yet (it is retried). */
function airOwed(a) {
  if (!a.withdrawal_owed) return null;
  return h('span', { class: 'alert-owed' }, ` · ${t('alerts.air_withdrawal_owed')}`);
}

/** Whether air request `a` (in `state`) can still be withdrawn by the requesting AMK. */
function withdrawable(a, state) {
  return a.service === 'ALERT_SERVICE_AIR_AMBULANCE' && !a.withdrawn_at
    && state !== 'ALERT_STATE_DECLINED' && state !== 'ALERT_STATE_CANCELLED'
    && !MISSION_PAST_WITHDRAWAL.has(a.mission_state);
}

/** Whether pre-notification `a` owes its hospital a document. */
function owes(a) {
  return (a.prenotification?.documents_delivered || 0) < (a.prenotification?.documents_due || 0);
}

/** Who the alert went to, where the service alone does not say: the hospital. */
function partner(a) {
  const hospital = a.prenotification?.hospital_name;
  return hospital ? ` ${hospital}` : '';
}

/** What happened to alert `a`, in the order it happened, each with its time and who. */
function facts(a, state) {
  const out = [];
  // Still proposed: the state already says so ("Foreslått foreslått 19:36" read twice).
  const proposedKey = state === 'ALERT_STATE_PROPOSED' ? 'alerts.proposed_when' : 'alerts.proposed';
  if (a.proposed_at) out.push(t(proposedKey, { at: timeOfDay(a.proposed_at), code: a.criteria_code || '' }));
  // Given by phone or radio (recipient "phone", alerts.BY_PHONE): one line says so, and
  // whom the dispatcher told; its acknowledgement is that same person, not a reply.
  const byPhone = a.recipient === 'phone' && a.sent_at;
  if (byPhone) {
    out.push(t('alerts.given_by_phone', { at: timeOfDay(a.sent_at), by: a.sent_by || '', to: a.acknowledged_by || '' }));
  } else if (a.sent_at) out.push(t('alerts.sent', { at: timeOfDay(a.sent_at), by: a.sent_by || '' }));
  if (a.reason) out.push(t('alerts.reason_is', { reason: a.reason }));
  if (a.escalated_at) {
    // Still waiting: phone them. Answered or withdrawn since: only that it was late.
    const key = state === 'ALERT_STATE_ESCALATED' ? 'alerts.escalated' : 'alerts.was_escalated';
    out.push(t(key, { at: timeOfDay(a.escalated_at) }));
  }
  if (a.acknowledged_at && !byPhone) out.push(t('alerts.acknowledged', { at: timeOfDay(a.acknowledged_at), by: a.acknowledged_by || '' }));
  if (a.mission_state && a.mission_state !== 'AIR_MISSION_STATE_UNSPECIFIED') out.push(en(a.mission_state));
  if (a.aircraft_unit_id) {
    out.push(t('alerts.aircraft', { unit: callSign(a.aircraft_unit_id), doctor: a.base_doctor || '–' }));
  }
  if (a.declined_at) out.push(t('alerts.declined', { at: timeOfDay(a.declined_at), by: a.declined_by || '' }));
  if (a.cancelled_at) out.push(t('alerts.cancelled', { at: timeOfDay(a.cancelled_at), by: a.cancelled_by || '' }));
  // An accepted air request withdrawn: acknowledged still (the base said yes), withdrawn too.
  else if (a.withdrawn_at) out.push(t('alerts.cancelled', { at: timeOfDay(a.withdrawn_at), by: a.withdrawn_by || '' }));
  // The AMK-LA's answer, when it could not stand the aircraft down.
  const answer = a.withdrawal_answer || 'AIR_MISSION_STATE_UNSPECIFIED';
  const lateness = withdrawalLateness(answer);
  if (lateness === 'too_late') out.push(t('alerts.air_withdrawal_too_late'));
  else if (lateness === 'after_end') out.push(t('alerts.air_withdrawal_after_end', { state: en(answer) }));
  // The note is why it was withdrawn or declined (the latest reason given), or what
  // changed (a hospital's new destination); an escalation's own note only repeats the
  // escalated line above.
  if (a.note && (a.cancelled_at || a.declined_at || a.withdrawn_at)) out.push(t('alerts.reason_is', { reason: a.note }));
  else if (a.note && !a.escalated_at) out.push(t('alerts.note_is', { note: a.note }));
  return out;
}

/** The form that asks the AMK-LA for an aircraft for incident `id`: the kind and why
 * (the base doctor reads the reason and decides whether to fly). The request shows as
 * an air ambulance alert, with the mission's state as the AMK-LA reports it. */
export function airForm(id) {
  const kinds = [...AIRCRAFT];
  return rpcForm('RequestAirAmbulance', [
    hidden('incident_id', id), errorSlot('incident_id'),
    field('kind', t('air.kind'), select(kinds.map((k) => [k, en(k)]), { value: kinds[0] })),
    field('reason', t('air.reason'), textarea({ maxlength: 2000 })),
  ], { reset: true, extraClass: 'air-form' });
}

/** The form that alerts 110, 112 or the legevakt by hand about incident `id` (or sends the
 * proposed one); with "phoned to" filled, the alert was given by phone and is recorded as
 * sent and acknowledged by that person. */
export function alertForm(id) {
  return rpcForm('SendAlert', [
    hidden('incident_id', id), errorSlot('incident_id'),
    field('service', t('alerts.to'), select(BY_HAND.map((s) => [s, en(s)]), { blank: '–' })),
    field('reason', t('alerts.reason'), textarea({ maxlength: 2000 })),
    // No link to that centre (or it is down): alerted by phone, and on record as such.
    field('phoned_to', t('alerts.phoned_to'), input({ maxlength: 200 }), t('alerts.phoned_to_hint')),
  ], { reset: true, extraClass: 'alert-form' });
}
