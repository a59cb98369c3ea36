// The selected incident's alerts to partners: 110 fire and 112 police (trippelvarsling),
// air ambulance requests and hospital pre-notifications, as the incident record carries
// them. They are drawn from the record, so a partner's acknowledgement or an escalation
// (sent, not acknowledged in time: phone them) shows with the next live update, without
// a reload. A proposed alert (an action card matched the triage) is sent with one click;
// 110 and 112 can also be alerted by hand, with a reason.
import { rpc } from '../api.js';
import { h, timeOfDay } from '../dom.js';
import { act, errorSlot, field, hidden, rpcForm, select, textarea } from '../forms.js';
import { en, t } from '../i18n.js';
import { can } from '../session.js';

/** The services a dispatcher alerts by hand here (an aircraft or a hospital is asked for
 * with its own request, which carries what that partner needs). */
export const BY_HAND = ['ALERT_SERVICE_FIRE_110', 'ALERT_SERVICE_POLICE_112'];

/** The alerts of incident `inc` as a list, newest state first in each line. */
export function alertList(inc) {
  const alerts = inc.alerts || [];
  if (!alerts.length) return h('p', { class: 'empty', id: 'alerts-none' }, t('alerts.none'));
  return h('ul', { class: 'alerts' }, alerts.map((a) => alertItem(inc.id, a)));
}

function alertItem(incidentId, a) {
  const state = a.state || 'ALERT_STATE_UNSPECIFIED';
  const li = h('li', {
    class: `alert-item ${state === 'ALERT_STATE_ESCALATED' ? 'escalated' : ''}`,
    dataset: { alertId: a.id || '', service: a.service || '', state },
  },
  h('strong', {}, en(a.service || 'ALERT_SERVICE_UNSPECIFIED')), ' · ',
  h('span', { class: 'alert-state' }, en(state)),
  h('span', { class: 'meta' }, ` ${facts(a).join(' · ')}`));
  if (state === 'ALERT_STATE_PROPOSED' && can('SendAlert')) {
    const b = h('button', { type: 'button', class: 'small', dataset: { action: 'SendAlert' } }, t('action.SendAlert'));
    const err = h('span', { class: 'form-error' });
    // The answer is the alert; the incident record that carries it comes on the stream.
    b.addEventListener('click', () => act(b, err, () => rpc('SendAlert', { incident_id: incidentId, service: a.service })));
    li.append(' ', b, err);
  }
  return li;
}

/** What happened to alert `a`, in order, each with its time and who. */
function facts(a) {
  const out = [];
  if (a.proposed_at) out.push(t('alerts.proposed', { at: timeOfDay(a.proposed_at), card: a.action_card || a.criteria_code || '' }));
  if (a.sent_at) out.push(t('alerts.sent', { at: timeOfDay(a.sent_at), by: a.sent_by || '' }));
  if (a.reason) out.push(t('alerts.reason_is', { reason: a.reason }));
  if (a.acknowledged_at) out.push(t('alerts.acknowledged', { at: timeOfDay(a.acknowledged_at), by: a.acknowledged_by || '' }));
  if (a.escalated_at) out.push(t('alerts.escalated', { at: timeOfDay(a.escalated_at) }));
  if (a.declined_at) out.push(t('alerts.declined', { at: timeOfDay(a.declined_at), by: a.declined_by || '' }));
  if (a.cancelled_at) out.push(t('alerts.cancelled', { at: timeOfDay(a.cancelled_at), by: a.cancelled_by || '' }));
  if (a.note) out.push(a.note);
  return out;
}

/** The form that alerts 110 or 112 by hand about incident `id` (or sends the proposed one). */
export function alertForm(id) {
  return rpcForm('SendAlert', [
    hidden('incident_id', id), errorSlot('incident_id'),
    field('service', t('alerts.to'), select(BY_HAND.map((s) => [s, en(s)]), { blank: '–' })),
    field('reason', t('alerts.reason'), textarea({ maxlength: 2000 })),
  ], { reset: true, extraClass: 'alert-form' });
}
