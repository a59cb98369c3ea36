// Key performance figures (GetKpis) as small inline SVG bar charts, no chart library:
// one chart per measure, a bar per region and urgency for p50 and p90, and the national
// target as a line.
import { rpc } from '../api.js';
import { h } from '../dom.js';
import { errorText } from '../forms.js';
import { en, num, t } from '../i18n.js';
import { URGENCY_COLOUR } from '../map_symbols.js';
import { can, inHealthRegion, regionById } from '../session.js';
import { on } from '../state.js';

const SVG = 'http://www.w3.org/2000/svg';
const REFRESH_MS = 60_000;
// The periods the panel offers, newest work only: asked every minute, the figures must
// not cost the gateway a read of the whole archive (months of it, in service).
const WINDOWS = [['1d', 86400], ['7d', 7 * 86400], ['30d', 30 * 86400]];

function s(tag, attrs = {}, text = '') {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text) el.textContent = text;
  return el;
}

export function kpisPanel() {
  if (!can('GetKpis')) return null;
  const charts = h('div', { id: 'kpis', class: 'kpi-charts' });
  const error = h('div', { class: 'form-error', role: 'alert' });
  const button = h('button', { type: 'button', class: 'secondary', dataset: { action: 'GetKpis' } }, t('action.GetKpis'));
  const period = h('select', { id: 'kpis-window', 'aria-label': t('kpis.window') },
    WINDOWS.map(([key, seconds]) => h('option', { value: String(seconds) }, t(`kpis.window.${key}`))));
  // The figures of the regions the caller may see (their centre's, all for an engineer),
  // narrowed in the browser to the health region shown: asking GetKpis for another
  // centre's regions would be refused, and the selection should not cost a round trip.
  let figures = [];
  const show = () => {
    const shown = figures.filter((f) => !f.region || inHealthRegion(f.region));
    draw(charts, shown, figures.length && !shown.length ? 'kpis.none_in_health_region' : 'kpis.none');
  };
  // The latest request wins: an answer (or a failure) of one overtaken by a later
  // request (the period changed meanwhile) is dropped. The minute's refresh is skipped
  // while one is in flight, so slow 30-day reads never pile up on the gateway.
  let asked = 0;
  let inFlight = false;
  const load = async ({ refresh = false } = {}) => {
    if (refresh && inFlight) return;
    const mine = ++asked;
    inFlight = true;
    button.disabled = true;
    error.textContent = '';
    try {
      const since = new Date(Date.now() - Number(period.value) * 1000).toISOString();
      const answer = await rpc('GetKpis', { since });
      if (mine !== asked) return;
      figures = answer.figures || [];
      show();
    } catch (err) {
      if (mine === asked) error.textContent = errorText(err);
    } finally {
      if (mine === asked) {
        inFlight = false;
        button.disabled = false;
      }
    }
  };
  button.addEventListener('click', () => load());
  period.addEventListener('change', () => load());
  on('health-region', show);
  load();
  setInterval(() => { if (!document.hidden) load({ refresh: true }); }, REFRESH_MS);
  return h('section', { class: 'panel', id: 'kpis-panel', 'aria-labelledby': 'kpis-title' },
    h('h2', { id: 'kpis-title' }, t('kpis.title')), h('div', { class: 'toolbar' }, period, ' ', button), error, charts);
}

function draw(el, figures, none = 'kpis.none') {
  const byMeasure = new Map();
  for (const f of figures) {
    if (!Number(f.count)) continue;
    if (!byMeasure.has(f.measure)) byMeasure.set(f.measure, []);
    byMeasure.get(f.measure).push(f);
  }
  if (!byMeasure.size) {
    el.replaceChildren(h('p', { class: 'empty' }, t(none)));
    return;
  }
  el.replaceChildren(...[...byMeasure].map(([measure, list]) => chart(measure, list)));
}

/** A row's label: its region and urgency, and what tells two rows of one region apart
 * in one chart: the service alerted, the condition, the area, and (where the rows are
 * not all held to one target) the row's own target. An area unknown (at sea) is held to
 * both the urban and the rural target: two rows that read the same without it. */
function label(f, oneTarget) {
  const parts = [regionById(f.region)?.code || f.region || t('filter.all')];
  if (f.urgency && f.urgency !== 'URGENCY_UNSPECIFIED') parts.push(en(f.urgency));
  if (f.alert_service && f.alert_service !== 'ALERT_SERVICE_UNSPECIFIED') parts.push(en(f.alert_service));
  if (f.condition && f.condition !== 'DESTINATION_CONDITION_UNSPECIFIED') parts.push(en(f.condition));
  if (f.area) parts.push(t(`coverage.area.${f.area}`));
  if (!oneTarget && Number(f.target_s)) parts.push(t('kpis.row_target', { s: fmt(f.target_s) }));
  return parts.join(' ');
}

function chart(measure, figures) {
  const targets = new Set(figures.map((f) => Number(f.target_s) || 0));
  const oneTarget = targets.size === 1;
  const labels = figures.map((f) => label(f, oneTarget));
  // Room for the longest label on the left and for "p50 / p90" right of the longest bar
  // (about 6 px a character at 11 px): a fixed 150 px cut "OSL Akutt ukjent område".
  const ROW = 22;
  const LEFT = Math.min(300, 12 + 6 * Math.max(...labels.map((l) => l.length)));
  const RIGHT = 110;
  // The chart is drawn to the panel's width: a wider viewBox would shrink the text, so
  // the bars give up room for a long label, down to 150 units.
  const W = LEFT + Math.max(150, 460 - LEFT - RIGHT) + RIGHT;
  const top = 6;
  const H = top + figures.length * ROW + 18;
  const max = Math.max(...figures.map((f) => Math.max(Number(f.p90_s) || 0, Number(f.target_s) || 0)), 1);
  const x = (v) => LEFT + ((W - LEFT - RIGHT) * v) / max;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, width: '100%', role: 'img', 'aria-label': t('kpis.chart_label', { measure: t(`kpi.${measure}`) }) });
  figures.forEach((f, i) => {
    const y = top + i * ROW;
    svg.append(s('text', { x: LEFT - 6, y: y + 14, 'text-anchor': 'end', class: 'kpi-label', 'data-region': f.region || '' }, labels[i]));
    const colour = URGENCY_COLOUR[f.urgency] || '#5c7cfa';
    const p90 = s('rect', { x: LEFT, y: y + 3, width: Math.max(1, x(Number(f.p90_s) || 0) - LEFT), height: 14, fill: colour, opacity: 0.35 });
    p90.append(s('title', {}, `n=${f.count}; p50 ${fmt(f.p50_s)}, p90 ${fmt(f.p90_s)}; ${f.target_text || ''}`));
    svg.append(p90);
    svg.append(s('rect', { x: LEFT, y: y + 3, width: Math.max(1, x(Number(f.p50_s) || 0) - LEFT), height: 14, fill: colour }));
    svg.append(s('text', { x: x(Number(f.p90_s) || 0) + 4, y: y + 14, class: 'kpi-value' },
      `${fmt(f.p50_s)} / ${fmt(f.p90_s)}`));
    if (Number(f.target_s)) {
      svg.append(s('line', { x1: x(Number(f.target_s)), x2: x(Number(f.target_s)), y1: y, y2: y + ROW - 2, class: 'kpi-target' }));
    }
  });
  svg.append(s('text', { x: LEFT, y: H - 4, class: 'kpi-axis' }, t('kpis.axis')));
  // The caption names the target when every row has the same one; else each row does.
  const target = oneTarget ? figures.find((f) => Number(f.target_s)) : null;
  return h('figure', { class: 'kpi', dataset: { measure } },
    h('figcaption', {}, t(`kpi.${measure}`), target ? h('small', {}, ` ${t('kpis.target', { s: fmt(target.target_s), share: Math.round(Number(target.target_share) * 100) })}`) : null),
    svg);
}

function fmt(seconds) {
  const v = Number(seconds) || 0;
  return v >= 120 ? `${num(v / 60)} min` : `${num(v, 0)} s`;
}
