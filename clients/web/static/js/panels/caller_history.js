// Earlier contacts from the number of the call being answered (ListCallerHistory): a
// caller who rings 113 again within hours is a known risk (the first assessment may have
// been too low), so the call-taker sees what the earlier calls came to before triaging.
// Those of the last 24 hours stand out. Nothing is asked for a hidden number; an answer
// that comes after the call was left is dropped.
import { rpc } from '../api.js';
import { dateTime, duration, fill, h, when } from '../dom.js';
import { en, t } from '../i18n.js';
import { can } from '../session.js';

const RECENT_MS = 24 * 3600 * 1000;

/** A block that fills itself with the history of ``call``'s number, or null. */
export function callerHistory(call) {
  if (!call.caller_number || !can('ListCallerHistory')) return null;
  const box = h('div', { class: 'caller-history', 'aria-live': 'polite', dataset: { state: 'loading', callId: call.id } },
    h('p', { class: 'hint' }, t('history.loading')));
  rpc('ListCallerHistory', { call_id: call.id }).then((found) => {
    if (!box.isConnected) return; // another call is shown now
    const now = Date.now();
    const contacts = (found.contacts || []).map((c) => contactLine(c, now));
    const recent = contacts.some((li) => li.classList.contains('recent'));
    box.dataset.state = contacts.length ? (recent ? 'recent' : 'earlier') : 'none';
    if (!contacts.length) {
      fill(box, h('p', { class: 'hint' }, t('history.none', { hours: found.hours })),
        found.archive_unavailable ? h('p', { class: 'hint' }, t('history.live_only')) : null);
      return;
    }
    const more = Number(found.total || 0) - contacts.length;
    fill(box,
      h('h4', {}, t(recent ? 'history.recent' : 'history.title', { hours: found.hours })),
      h('ul', {}, contacts),
      more > 0 ? h('p', { class: 'hint' }, t('history.more', { n: more })) : null,
      found.archive_unavailable ? h('p', { class: 'hint' }, t('history.live_only')) : null);
  }).catch((err) => {
    if (!box.isConnected) return;
    box.dataset.state = 'error';
    fill(box, h('p', { class: 'form-error' }, t('history.failed', { error: err.message || String(err) })));
  });
  return box;
}

function contactLine(c, now) {
  const ago = t('history.ago', { ago: duration(now - when(c.at), t('unit.hour')) });
  const recent = now - when(c.at) < RECENT_MS;
  const urgency = c.urgency && c.urgency !== 'URGENCY_UNSPECIFIED' ? en(c.urgency) : '';
  const what = c.kind === 'incident'
    ? [urgency || t('map.untriaged'), en(c.status), c.criteria_code]
    : [c.outcome && c.outcome !== 'CALL_OUTCOME_UNSPECIFIED' ? t(`calls.outcome.${c.outcome}`)
      : c.incident_id ? t('history.to_incident', { id: c.incident_id }) : en(c.status)];
  if (c.archived) what.push(t('history.archived'));
  return h('li', { class: `earlier-${c.kind}${recent ? ' recent' : ''}`, dataset: { id: c.id } },
    h('span', { class: 'meta' }, `${dateTime(c.at)} (${ago}) `),
    h('span', { class: 'mono' }, c.id), ' · ', what.filter(Boolean).join(' · '));
}
