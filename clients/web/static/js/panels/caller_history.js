// Earlier contacts from the number of the call being answered (ListCallerHistory): a
// caller who rings 113 again within hours is a known risk (the first assessment may have
// been too low), so the call-taker sees what the earlier calls came to before triaging.
// Those of the last 24 hours stand out. The current call is left out; nothing is shown
// for a hidden number.
import { rpc } from '../api.js';
import { dateTime, duration, fill, h, when } from '../dom.js';
import { en, t } from '../i18n.js';
import { can } from '../session.js';

const RECENT_MS = 24 * 3600 * 1000;

/** A block that fills itself with the history of ``call``'s number, or null. */
export function callerHistory(call) {
  if (!call.caller_number || !can('ListCallerHistory')) return null;
  const box = h('div', { class: 'caller-history', 'aria-live': 'polite', dataset: { state: 'loading' } },
    h('p', { class: 'hint' }, t('history.loading')));
  rpc('ListCallerHistory', { caller_number: call.caller_number }).then((found) => {
    const now = Date.now();
    const ago = (ts) => t('history.ago', { ago: duration(now - when(ts), t('unit.hour')) });
    const line = (at, cls, ...parts) => h('li', { class: now - when(at) < RECENT_MS ? `${cls} recent` : cls },
      h('span', { class: 'meta' }, `${dateTime(at)} (${ago(at)}) `), ...parts);
    const incidents = (found.incidents || []).map((inc) => line(inc.created_at, 'earlier-incident',
      h('span', { class: 'mono' }, inc.id), ` · ${inc.urgency === 'URGENCY_UNSPECIFIED' ? t('map.untriaged') : en(inc.urgency)}`,
      ` · ${en(inc.status)}`, inc.archived ? ` · ${t('history.archived')}` : '',
      inc.criteria_code ? ` · ${inc.criteria_code}` : ''));
    const calls = (found.calls || []).filter((c) => c.id !== call.id).map((c) => line(c.arrived_at, 'earlier-call',
      h('span', { class: 'mono' }, c.id), ' · ',
      c.outcome && c.outcome !== 'CALL_OUTCOME_UNSPECIFIED' ? t(`calls.outcome.${c.outcome}`)
        : c.incident_id ? t('history.to_incident', { id: c.incident_id }) : en(c.status)));
    const recent = [...incidents, ...calls].some((li) => li.classList.contains('recent'));
    box.dataset.state = incidents.length + calls.length ? (recent ? 'recent' : 'earlier') : 'none';
    if (!incidents.length && !calls.length) {
      fill(box, h('p', { class: 'hint' }, t('history.none', { hours: found.hours })));
      return;
    }
    fill(box,
      h('h4', {}, t(recent ? 'history.recent' : 'history.title', { hours: found.hours })),
      h('ul', {}, incidents, calls));
  }).catch((err) => {
    box.dataset.state = 'error';
    fill(box, h('p', { class: 'form-error' }, t('history.failed', { error: err.message || String(err) })));
  });
  return box;
}
