// Ambulance coverage (GetCoverage, beredskap): each station of the regions in scope (of
// the health region shown, if one is), the free ambulances standing there and the
// nearest free one with its ETA against the area's target; the stations without cover
// first, in red (amber: uncertain, the area not known to be urban or rural). Asked
// again when units change (at most every 10 s) and on the button;
// a dispatcher decides a standby move, the page only shows where one is needed.
import { rpc } from '../api.js';
import { h, travel } from '../dom.js';
import { act } from '../forms.js';
import { t } from '../i18n.js';
import { can, inHealthRegion, regionById } from '../session.js';
import { on } from '../state.js';

const MIN_INTERVAL_MS = 10_000;

export function coveragePanel() {
  if (!can('GetCoverage')) return null;
  const list = h('ul', { id: 'coverage', class: 'coverage' });
  const summary = h('p', { class: 'hint', role: 'status' });
  const error = h('div', { class: 'form-error', role: 'alert' });
  const button = h('button', { type: 'button', class: 'secondary', dataset: { action: 'GetCoverage' } }, t('action.GetCoverage'));
  let stations = [];
  let last = 0;
  let pending = null;
  let missed = false; // units changed while the page was hidden
  let asked = 0; // the latest request: an older answer landing after it is dropped

  const show = () => {
    const shown = stations.filter((s) => inHealthRegion(s.region));
    const gaps = shown.filter((s) => stateOf(s) === 'gap').length;
    const uncertain = shown.filter((s) => stateOf(s) === 'uncertain').length;
    summary.textContent = shown.length ? t('coverage.summary', { gaps, uncertain, total: shown.length }) : t('coverage.none');
    list.replaceChildren(...shown.map(row));
  };
  const load = () => {
    const mine = ++asked;
    return act(button, error, async () => {
      last = Date.now();
      let found;
      try {
        found = (await rpc('GetCoverage', {})).stations || [];
      } catch (err) {
        if (mine !== asked) return; // a newer request is on its way: its answer counts
        list.classList.add('stale'); // kept, marked: a failover's moment should not blank it
        throw err;
      }
      if (mine !== asked) return;
      stations = found;
      list.classList.remove('stale');
      show();
    });
  };
  // Units change often (positions), owners on a hand-over: ask at most every
  // MIN_INTERVAL_MS, and not while the page is hidden (then once it is shown again).
  const soon = () => {
    if (pending) return;
    const wait = Math.max(0, last + MIN_INTERVAL_MS - Date.now());
    pending = setTimeout(() => {
      pending = null;
      if (document.hidden) missed = true;
      else load();
    }, wait);
  };
  on('units', soon);
  on('owners', soon); // a hand-over changes whose stations these are
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && missed) { missed = false; load(); }
  });
  button.addEventListener('click', load);
  on('health-region', show);
  load();
  return h('section', { class: 'panel', id: 'coverage-panel', 'aria-labelledby': 'coverage-title' },
    h('h2', { id: 'coverage-title' }, t('coverage.title')),
    h('div', { class: 'toolbar' }, button, summary), error, list);
}

function row(s) {
  const near = s.nearest && s.nearest.unit ? s.nearest : null;
  const nearest = near
    ? t('coverage.nearest', { unit: near.unit.call_sign || near.unit.id, eta: travel(Number(near.eta_s)) })
    : t('coverage.no_free');
  const free = (s.free_here || []).length;
  const state = stateOf(s);
  return h('li', {
    class: state,
    dataset: { stationId: s.station_id, state, free: String(free), nearest: near ? near.unit.id : '' },
  },
  h('strong', {}, s.name), ' ',
  h('small', {}, `${regionById(s.region)?.name || s.region} · ${t(`coverage.area.${s.area}`)} ${targetMinutes(s)} min`),
  h('br'),
  free ? t('coverage.free_here', { n: free }) : t('coverage.none_here'), ' · ', nearest,
  state === 'uncertain' ? h('small', { class: 'note' }, ` · ${uncertain(s)}`) : null);
}

/** The minutes a station may be held to, [urban, rural]: both ends as the server sends
 *  them (a server without ``target_max_s`` sends none for an area not known: "?"). */
function targetRange(s) {
  const low = Math.round(Number(s.target_s || 0) / 60);
  const high = Math.round(Number(s.target_max_s || 0) / 60);
  if (high) return [low, high];
  return [low, s.area === 'unknown' ? '?' : low];
}

/** Why a station's cover is uncertain, with its two targets. */
function uncertain(s) {
  const [urban, rural] = targetRange(s);
  return t('coverage.uncertain', { urban, rural });
}

/** The minutes a station is held to: a range where its area is not known. */
function targetMinutes(s) {
  const [low, high] = targetRange(s);
  return high !== low ? `${low}–${high}` : String(low);
}

/** The station's state; from a gateway that does not send one, from ``covered``. */
function stateOf(s) {
  return s.state || (s.covered ? 'covered' : 'gap');
}
