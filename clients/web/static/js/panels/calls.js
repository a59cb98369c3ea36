// The 113 queue: every waiting and answered call of the regions in scope (of the health
// region shown, if one is), grouped by the centre that owns the region now, with the wait
// ticking against the 10 s answer target (red past it). A call-taker signs in at their
// centre and answers the next call; the answered call fills the new-incident form, is
// linked to a known incident, or ends without one with how (advice, legevakt, ...).
import { rpc } from '../api.js';
import { duration, fill, h, when } from '../dom.js';
import { desk } from '../desk.js';
import { act, field, hidden, input, rpcForm, select } from '../forms.js';
import { callerHistory } from './caller_history.js';
import { en, num, t } from '../i18n.js';
import { can, centreName, inHealthRegion, regionById, session } from '../session.js';
import { emit, on, store } from '../state.js';

const TARGET_MS = 10_000; // the national target: 90 % of 113 calls answered within 10 s
/** How an answered call may end without an incident (CallOutcome), in the order offered. */
const OUTCOMES = ['CALL_OUTCOME_ADVICE', 'CALL_OUTCOME_LEGEVAKT', 'CALL_OUTCOME_OTHER_SERVICE',
  'CALL_OUTCOME_NO_NEED', 'CALL_OUTCOME_DISCONNECTED', 'CALL_OUTCOME_OTHER'];
const SIGNED_IN = 'amk.signed-in';

export function callsPanel() {
  const list = h('div', { id: 'calls', class: 'call-queue', 'aria-live': 'off' });
  const status = h('span', { class: 'calltaker-status' });
  const error = h('div', { class: 'form-error', role: 'alert' });
  const answered = h('div', { class: 'answered-call', hidden: true });
  const done = h('p', { class: 'done', role: 'status' });
  let shownCall = ''; // the id of the answered call shown
  const ended = new Set(); // calls this page saw end (the stream may still list them)
  let signedIn = sessionStorage.getItem(SIGNED_IN) === session.me.user;

  const who = () => ({ centre: session.me.centre, call_taker: session.me.user });
  const showStatus = (s) => {
    signedIn = Boolean(s?.signed_in ?? signedIn);
    if (signedIn) sessionStorage.setItem(SIGNED_IN, session.me.user);
    else sessionStorage.removeItem(SIGNED_IN);
    status.textContent = signedIn ? t('calls.signed_in') : t('calls.signed_out');
    if (s && s.signed_in_call_takers !== undefined) {
      status.textContent += ` · ${t('calls.free', { free: s.free_call_takers, total: s.signed_in_call_takers })}`;
    }
    status.classList.toggle('on', signedIn);
  };

  const buttons = [];
  if (can('SignIn')) {
    const b = h('button', { type: 'button', dataset: { action: 'SignIn' } }, t('action.SignIn'));
    b.addEventListener('click', () => act(b, error, async () => showStatus(await rpc('SignIn', who()))));
    buttons.push(b);
  }
  if (can('SignOut')) {
    const b = h('button', { type: 'button', class: 'secondary', dataset: { action: 'SignOut' } }, t('action.SignOut'));
    b.addEventListener('click', () => act(b, error, async () => showStatus(await rpc('SignOut', who()))));
    buttons.push(b);
  }
  if (can('AnswerNextCall')) {
    const b = h('button', { type: 'button', class: 'primary', dataset: { action: 'AnswerNextCall' }, 'aria-keyshortcuts': 'Alt+A' }, t('action.AnswerNextCall'));
    b.addEventListener('click', () => act(b, error, async () => {
      done.textContent = '';
      // Pressing "answer" means taking calls: sign in first if not yet signed in.
      if (!signedIn && can('SignIn')) showStatus(await rpc('SignIn', who()));
      const res = await rpc('AnswerNextCall', { centre: session.me.centre, call_taker: session.me.user });
      if (res.none_waiting || !res.call) {
        showAnswered(null);
        error.textContent = t('calls.none_waiting');
        return;
      }
      showAnswered(res.call);
      emit('call-answered', res.call);
    }));
    buttons.push(b);
  }
  showStatus(null);

  // The call is over here (linked, made an incident, closed: 'call-ended', from this
  // panel or the new-incident form): hide it (the form, on the same event, lets it go).
  on('call-ended', (id) => {
    ended.add(id);
    if (shownCall === id) showAnswered(null);
  });

  function showAnswered(call) {
    answered.hidden = !call;
    shownCall = call ? call.id : '';
    if (!call) return;
    done.textContent = '';
    const pos = call.position;
    const link = can('LinkCall')
      ? h('button', { type: 'button', class: 'secondary', dataset: { action: 'LinkCall' } }, t('action.LinkCall'))
      : null;
    const linkError = h('div', { class: 'form-error', role: 'alert' });
    if (link) {
      link.addEventListener('click', () => act(link, linkError, async () => {
        if (!desk.incident) throw new Error(t('calls.select_incident_first'));
        await rpc('LinkCall', { call_id: call.id, incident_id: desk.incident });
        const incident = desk.incident;
        emit('call-ended', call.id);
        done.textContent = t('calls.linked', { incident });
      }));
    }
    // Ended without an incident: how (the note is required for "other").
    const close = can('CloseCall') ? rpcForm('CloseCall', [
      hidden('call_id', call.id),
      field('outcome', t('calls.outcome'), select(OUTCOMES.map((o) => [o, t(`calls.outcome.${o}`)]), { blank: t('calls.outcome_choose') })),
      field('note', t('calls.outcome_note'), input({ maxlength: 500 })),
    ], {
      extraClass: 'call-close inline',
      done: (closed) => {
        emit('call-ended', closed.id);
        done.textContent = t('calls.closed', { outcome: t(`calls.outcome.${closed.outcome}`) });
      },
    }) : null;
    fill(answered,
      h('h3', {}, t('calls.answered')),
      h('dl', {},
        h('dt', {}, t('incident.caller_number')), h('dd', {}, call.caller_number || '–'),
        h('dt', {}, t('incident.region')), h('dd', {}, regionById(call.region)?.name || call.region),
        h('dt', {}, t('incident.position')), h('dd', {}, pos ? `${pos.lat.toFixed(5)}, ${pos.lon.toFixed(5)}` : '–'),
        call.urgency_hint && call.urgency_hint !== 'URGENCY_UNSPECIFIED' ? [h('dt', {}, t('calls.hint')), h('dd', {}, en(call.urgency_hint))] : null,
        h('dt', {}, t('calls.call_id')), h('dd', { class: 'mono' }, call.id)),
      callerHistory(call),
      h('p', { class: 'hint' }, t('calls.form_filled')),
      link, linkError, close);
  }

  // After a reload, the call this person is still talking on comes back from the queue,
  // with its link and close (else it could not be ended from the console).
  const resume = () => {
    if (shownCall) return;
    // The latest such call: one left answered when the person moved on comes after it.
    const mine = store.calls.filter((c) => c.status === 'CALL_STATUS_ANSWERED' && !ended.has(c.id)
      && c.call_taker === session.me.user && c.answered_by === session.me.centre)
      .sort((a, b) => when(b.answered_at) - when(a.answered_at))[0];
    if (mine) showAnswered(mine);
  };
  on('calls', () => { renderQueue(list); resume(); });
  on('owners', () => renderQueue(list));
  on('health-region', () => renderQueue(list));
  setInterval(() => tick(list), 250);

  return h('section', { class: 'panel', id: 'calls-panel', 'aria-labelledby': 'calls-title' },
    h('h2', { id: 'calls-title' }, t('calls.title')),
    h('div', { class: 'calltaker' }, buttons, status),
    error, done, answered, list);
}

function renderQueue(list) {
  const byCentre = new Map();
  // The health region shown narrows the queue to its regions' calls and figures.
  const regions = new Set([...store.calls.map((c) => c.region), ...metricRegions()].filter(inHealthRegion));
  for (const region of regions) {
    const owner = store.owners[region] || '';
    if (!byCentre.has(owner)) byCentre.set(owner, []);
    byCentre.get(owner).push(region);
  }
  const groups = [];
  for (const [centre, regionIds] of [...byCentre].sort((a, b) => centreName(a[0]).localeCompare(centreName(b[0])))) {
    const sections = regionIds.sort().map((region) => {
      const calls = store.calls.filter((c) => c.region === region)
        .sort((a, b) => when(a.arrived_at) - when(b.arrived_at));
      const m = metricsOf(region);
      const line = m ? t('calls.metrics', {
        waiting: m.waiting || 0,
        share: Math.round((m.answered_within_10s || 0) * 100),
        p90: num(m.answer_p90_s),
      }) : '';
      return h('div', { class: 'queue-region', dataset: { region } },
        h('h4', {}, regionById(region)?.name || region, h('span', { class: 'metrics' }, line)),
        calls.length ? h('ul', {}, calls.map(callRow)) : h('p', { class: 'empty' }, t('calls.empty')));
    });
    groups.push(h('div', { class: 'queue-centre' }, h('h3', {}, centre ? centreName(centre) : t('owners.nobody')), sections));
  }
  list.replaceChildren(...(groups.length ? groups : [h('p', { class: 'empty' }, t('calls.empty'))]));
  tick(list);
}

function callRow(call) {
  const waiting = call.status === 'CALL_STATUS_WAITING';
  return h('li', {
    class: `call ${waiting ? 'waiting' : 'answered'}`,
    dataset: { callId: call.id, status: call.status, arrived: when(call.arrived_at) },
  },
  h('span', { class: 'wait', 'aria-label': t('calls.wait') }),
  h('span', { class: 'number' }, call.caller_number || t('calls.unknown_number')),
  h('span', { class: 'state' }, waiting
    ? (call.shared_to ? t('calls.shared_to', { centre: centreName(call.shared_to) }) : en(call.status))
    : t('calls.answered_by', { who: call.call_taker || centreName(call.answered_by) })));
}

// The wait ticks in the browser between two `calls` events (one a second).
function tick(list) {
  const now = Date.now();
  for (const li of list.querySelectorAll('li.call.waiting')) {
    const waited = now - Number(li.dataset.arrived);
    li.querySelector('.wait').textContent = duration(waited);
    li.classList.toggle('late', waited > TARGET_MS);
  }
}

function metricRegions() {
  return store.metrics.flatMap((m) => (m.regions || []).map((r) => r.region));
}

function metricsOf(region) {
  for (const m of store.metrics) for (const r of m.regions || []) if (r.region === region) return r;
  return null;
}
