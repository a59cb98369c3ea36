// Telephone-guided CPR (telefonveiledet HLR) on the selected incident, near its top: the
// dispatcher records, with one click each, when the guidance began and when the caller's
// first chest compressions did (or that compressions were already under way), or, with
// why, that the arrest was recognised but the caller not guided; and, with how, that the
// guidance ended before a unit came (which frees the incident for a hand-over again);
// each once and only before a unit is on scene, but a correction of the record (no
// arrest after all, the wrong incident), which is offered after that too (cpr_guidance.py). It shows how long ago
// the guidance began, and a beat at 110 a minute to count with the caller until a unit
// is there or it ended. The times are the quality review's (amk kpi: from the 113 call
// to each).
import { rpc } from '../api.js';
import { clock, h, timeOfDay, when } from '../dom.js';
import { act, field, hidden, input, rpcForm, select } from '../forms.js';
import { t } from '../i18n.js';
import { can } from '../session.js';
import { putIncident } from '../state.js';

/** Nobody of ours at the patient yet: the caller's hands are all the patient has. */
const BEFORE_SCENE = new Set(['INCIDENT_STATUS_RECEIVED', 'INCIDENT_STATUS_TRIAGED', 'INCIDENT_STATUS_DISPATCHED']);
/** Where a cardiac arrest is likeliest: not yet triaged (it is recognised in the first
 * seconds of the call) or akutt. The start is offered on the others too, less loudly. */
const LIKELY = new Set(['URGENCY_UNSPECIFIED', 'URGENCY_AKUTT', undefined]);
const BEATS_PER_MINUTE = 110; // within the guidelines' 100-120 compressions a minute
/** How the guidance may end before a unit is on scene (CprEnd), in the order offered. */
const ENDS = ['CPR_END_ROSC', 'CPR_END_OTHERS_TOOK_OVER', 'CPR_END_CALL_LOST', 'CPR_END_CALLER_STOPPED',
  'CPR_END_NOT_INDICATED', 'CPR_END_NOT_ARREST', 'CPR_END_WRONG_INCIDENT'];
/** Ends that correct the record (cpr_guidance.CORRECTIONS): offered at any time, also
 * after a "not given" or once a unit is on scene (a false arrest is most often found
 * out there). */
const CORRECTIONS = ['CPR_END_NOT_ARREST', 'CPR_END_WRONG_INCIDENT'];

/** What the block shows depends on only these: it is rebuilt when they change, not on
 * every update of the incident (a unit's position), so the beat keeps its rhythm, a
 * refusal beside a button stays and an end being chosen is kept. */
export function cprKey(inc) {
  // The urgency matters only to the red of the start, before anything is recorded.
  const likely = !inc.cpr && LIKELY.has(inc.urgency);
  return JSON.stringify([inc.cpr || null, BEFORE_SCENE.has(inc.status), likely, can('RecordCprGuidance')]);
}

/** The block for incident `inc`, or null (nothing recorded, and a unit is on scene). */
export function cprBlock(inc) {
  const g = inc.cpr || {};
  const started = when(g.started_at);
  const compressions = when(g.compressions_at);
  const before = BEFORE_SCENE.has(inc.status);
  const allowed = can('RecordCprGuidance');
  const may = before && allowed;
  const notGiven = when(g.not_given_at);
  const ended = Number.isFinite(when(g.ended_at));
  if (!Number.isFinite(started) && !Number.isFinite(notGiven) && !may) return null;
  const step = Number.isFinite(compressions) ? 'compressions' : g.bystander ? 'bystander'
    : Number.isFinite(started) ? 'started' : Number.isFinite(notGiven) ? 'not_given' : 'none';
  const el = h('div', { class: 'cpr', id: 'cpr', dataset: { step } }, h('h4', {}, t('cpr.title')));
  const err = h('span', { class: 'form-error' });
  const who = (by) => by || '–';
  const record = (value, label, urgent) => {
    const b = h('button', {
      type: 'button', class: urgent ? 'cpr-record urgent' : 'cpr-record secondary',
      dataset: { action: 'RecordCprGuidance', step: value },
    }, label);
    b.addEventListener('click', () => act(b, err, async () => {
      putIncident(await rpc('RecordCprGuidance', { incident_id: inc.id, step: value }));
    }));
    return b;
  };
  const endLine = () => {
    el.dataset.ended = g.end || '';
    const key = CORRECTIONS.includes(g.end) ? 'cpr.corrected_at' : 'cpr.ended_at';
    el.append(h('p', { class: 'cpr-ended-line' }, t(key, {
      time: timeOfDay(g.ended_at), who: who(g.ended_by), end: t(`cpr.end.${g.end}`),
    })));
    return el;
  };
  // The end of the guidance, with how (it frees the incident for a hand-over again); or,
  // once a unit is on scene or after "not given", only a correction of the record.
  const endForm = (ends) => {
    const corrections = ends === CORRECTIONS;
    return rpcForm('RecordCprGuidance', [
      hidden('incident_id', inc.id), hidden('step', 'CPR_STEP_ENDED'),
      field('end', t(corrections ? 'cpr.correct_how' : 'cpr.end_how'),
        select(ends.map((e) => [e, t(`cpr.end.${e}`)]), { blank: '' })),
    ], {
      submit: t(corrections ? 'cpr.correct_record' : 'cpr.end_record'), done: putIncident,
      extraClass: corrections ? 'cpr-end cpr-correct inline' : 'cpr-end inline',
    });
  };
  if (Number.isFinite(notGiven)) {
    el.append(h('p', { class: 'cpr-not-given-line' }, t('cpr.not_given_at', {
      time: timeOfDay(g.not_given_at), who: who(g.not_given_by), reason: g.not_given_reason || '',
    })));
  }
  if (step === 'none' || step === 'not_given') {
    if (ended) return endLine();
    if (may) {
      el.append(record('CPR_STEP_STARTED', t('cpr.start'), step === 'none' && LIKELY.has(inc.urgency)), ' ',
        record('CPR_STEP_BYSTANDER', t('cpr.bystander'), false), ' ', err);
    }
    if (may && step === 'none') {
      // Recognised, and not guided: why (the caller cannot, will not, or it is too late).
      const form = rpcForm('RecordCprGuidance', [
        hidden('incident_id', inc.id), hidden('step', 'CPR_STEP_NOT_GIVEN'),
        field('reason', t('cpr.not_given_reason'), input({ maxlength: 500 })),
      ], { submit: t('cpr.not_given'), done: putIncident, extraClass: 'cpr-not-given inline' });
      form.dataset.escape = 'reset';
      el.append(form);
    }
    if (allowed && step === 'not_given') el.append(endForm(CORRECTIONS));
    return el;
  }
  el.append(h('p', {},
    t(g.bystander ? 'cpr.started_bystander' : 'cpr.started', { time: timeOfDay(g.started_at), who: who(g.started_by) }),
    before && !ended ? [' · ', h('span', { class: 'cpr-since', dataset: { since: String(started) } }, since(started))] : null));
  if (step === 'started' && may && !ended) {
    el.append(record('CPR_STEP_COMPRESSIONS', t('cpr.compressions'), true), ' ', err);
  } else if (step === 'compressions') {
    el.append(h('p', {}, t('cpr.compressions_at', {
      time: timeOfDay(g.compressions_at), who: who(g.compressions_by),
      after: clock((compressions - started) / 1000),
    })));
  }
  if (ended) return endLine();
  if (allowed) el.append(endForm(before ? ENDS : CORRECTIONS));
  if (before) {
    el.append(h('p', { class: 'cpr-beat-line' },
      h('span', { class: 'cpr-beat', style: `animation-duration: ${60 / BEATS_PER_MINUTE}s`, 'aria-hidden': 'true' }),
      ' ', t('cpr.beat', { rate: BEATS_PER_MINUTE })));
  }
  return el;
}

function since(at) {
  return t('cpr.since', { time: clock((Date.now() - at) / 1000) }); // m:ss: seconds matter
}

// One clock for every "since" shown (the block is not redrawn as time passes).
setInterval(() => {
  for (const el of document.querySelectorAll('.cpr-since[data-since]')) el.textContent = since(Number(el.dataset.since));
}, 1000);
