// Telephone-guided CPR (telefonveiledet HLR) on the selected incident, near its top: the
// dispatcher records, with one click each, when the guidance began and when the caller's
// chest compressions did (each once, in order: cpr_guidance.py), sees how long ago, and
// counts with the caller by a beat at 110 a minute while nobody is on scene yet. The
// times are the quality review's (amk kpi: from the 113 call to each).
import { rpc } from '../api.js';
import { duration, h, timeOfDay, when } from '../dom.js';
import { act } from '../forms.js';
import { t } from '../i18n.js';
import { can } from '../session.js';
import { putIncident } from '../state.js';

const CLOSED = new Set(['INCIDENT_STATUS_CLOSED', 'INCIDENT_STATUS_CANCELLED']);
/** Nobody of ours at the patient yet: the caller's hands are all the patient has. */
const BEFORE_SCENE = new Set(['INCIDENT_STATUS_RECEIVED', 'INCIDENT_STATUS_TRIAGED', 'INCIDENT_STATUS_DISPATCHED']);
export const BEATS_PER_MINUTE = 110; // within the guidelines' 100-120 compressions a minute

/** Urgencies a cardiac arrest can be among: not yet triaged (it is recognised in the
 * first seconds of the call), or akutt (a patient who got worse is triaged again). */
const MAY_ARREST = new Set(['URGENCY_UNSPECIFIED', 'URGENCY_AKUTT', undefined]);

/** The block for incident `inc`, or null (not guided, and not an incident to offer it
 * on: closed, or triaged haster or vanlig). */
export function cprBlock(inc) {
  const g = inc.cpr || {};
  const started = when(g.started_at);
  const compressions = when(g.compressions_at);
  const open = !CLOSED.has(inc.status);
  const may = open && can('RecordCprGuidance');
  if (!Number.isFinite(started) && !(may && MAY_ARREST.has(inc.urgency))) return null;
  const step = Number.isFinite(compressions) ? 'compressions' : Number.isFinite(started) ? 'started' : 'none';
  const el = h('div', { class: 'cpr', id: 'cpr', dataset: { step } }, h('h4', {}, t('cpr.title')));
  const err = h('span', { class: 'form-error' });
  const record = (value, label, extra = '') => {
    const b = h('button', { type: 'button', class: `cpr-record ${extra}`.trim(), dataset: { action: 'RecordCprGuidance', step: value } }, label);
    b.addEventListener('click', () => act(b, err, async () => {
      putIncident(await rpc('RecordCprGuidance', { incident_id: inc.id, step: value }));
    }));
    return b;
  };
  if (step === 'none') {
    el.append(record('CPR_STEP_STARTED', t('cpr.start'), 'urgent'), ' ', err);
    return el;
  }
  el.append(h('p', {}, t('cpr.started', { time: timeOfDay(g.started_at), who: g.started_by || '–' }), ' · ',
    h('span', { class: 'cpr-since', dataset: { since: String(started) } }, since(started))));
  if (step === 'started') {
    if (may) el.append(record('CPR_STEP_COMPRESSIONS', t('cpr.compressions'), 'urgent'), ' ', err);
  } else {
    el.append(h('p', {}, t('cpr.compressions_at', {
      time: timeOfDay(g.compressions_at), who: g.compressions_by || '–', after: duration(compressions - started),
    })));
  }
  if (open && BEFORE_SCENE.has(inc.status)) {
    el.append(h('p', { class: 'cpr-beat-line' },
      h('span', { class: 'cpr-beat', style: `animation-duration: ${60 / BEATS_PER_MINUTE}s`, 'aria-hidden': 'true' }),
      ' ', t('cpr.beat', { rate: BEATS_PER_MINUTE })));
  }
  return el;
}

function since(at) {
  return t('cpr.since', { time: duration(Date.now() - at) });
}

// One clock for every "since" shown (the panel redraws only when the incident changes).
setInterval(() => {
  for (const el of document.querySelectorAll('.cpr-since[data-since]')) el.textContent = since(Number(el.dataset.since));
}, 1000);
