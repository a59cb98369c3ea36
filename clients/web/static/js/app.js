// Boot: GET /api/me decides between the login page and the console. The console is one
// or two screens (?screen=map, ?screen=lists, or both side by side at /), fed by one
// live stream per window.
import { get, post, whenUnauthorized } from './api.js';
import { h, throttled } from './dom.js';
import { errorText } from './forms.js';
import { language, languages, loadLanguage, setLanguage, t } from './i18n.js';
import { helpDialog, installShortcuts } from './keys.js';
import { startLive, stopLive } from './live.js';
import { createMap } from './map.js';
import { onHealthRegion, restoreHealthRegion, showHealthRegion } from './desk.js';
import { loadGeo } from './map_regions.js';
import { airMissionsPanel } from './panels/air_missions.js';
import { boardAtPanel } from './panels/board_at.js';
import { breakGlassPanel } from './panels/break_glass.js';
import { callsPanel } from './panels/calls.js';
import { coveragePanel } from './panels/coverage.js';
import { incidentDetailPanel } from './panels/incident_detail.js';
import { incidentFormPanel } from './panels/incident_form.js';
import { incidentsPanel } from './panels/incidents.js';
import { kpisPanel } from './panels/kpis.js';
import { renderLogin } from './panels/login.js';
import { ownersPanel } from './panels/owners.js';
import { recommendationsPanel } from './panels/recommendations.js';
import { supervisorPanel } from './panels/supervisor.js';
import { unitsPanel } from './panels/units.js';
import { can, centreName, session } from './session.js';
import { on, store } from './state.js';

const root = document.getElementById('app');

async function boot() {
  await loadLanguage();
  document.title = t('app.title');
  whenUnauthorized(() => showLogin(false));
  try {
    session.me = await get('/api/me');
  } catch (err) {
    if (err.status === 401) return showLogin(Boolean(err.body?.dev_login));
    root.replaceChildren(h('p', { class: 'fatal', role: 'alert' }, `${t('error.boot')}: ${errorText(err)}`));
    return undefined;
  }
  return startConsole();
}

async function showLogin(devLogin) {
  stopLive();
  let centres = [];
  if (devLogin) {
    try {
      centres = (await get('/api/reference')).centres || [];
    } catch {
      centres = [];
    }
  }
  // A fresh page after login: no listener or stream of an earlier session is left over.
  renderLogin(root, { devLogin, centres, done: () => location.reload() });
}

function screenOf() {
  const s = new URLSearchParams(location.search).get('screen');
  return s === 'map' || s === 'lists' ? s : 'both';
}

async function startConsole() {
  // The regions are the running seed's, built by the server (the whole country under the
  // national seed): /api/geo/regions, not a static file.
  const [reference, regionsGeo] = await Promise.all([get('/api/reference'), loadGeo('/api/geo/regions')]);
  Object.assign(session.reference, reference);
  restoreHealthRegion();
  session.regionFeatures = regionsGeo.features;
  session.areaRegionIds = new Set(regionsGeo.features.map((f) => f.properties.region));

  const screen = screenOf();
  session.hasMap = screen !== 'lists';
  const dialog = helpDialog();
  const main = h('main', { class: `console screen-${screen}`, id: 'console' });
  root.replaceChildren(header(dialog), main, dialog);
  installShortcuts(dialog);

  let mapSection = null;
  if (screen !== 'lists') {
    const mapEl = h('div', { id: 'map', role: 'application', 'aria-label': t('map.label') });
    mapSection = h('section', { class: 'map-screen', 'aria-label': t('screen.map') }, mapEl, ownersPanel());
    main.append(mapSection);
  }
  if (screen !== 'map') main.append(listsScreen(screen));
  if (mapSection) await createMap(document.getElementById('map'), regionsGeo);
  startLive();
}

function listsScreen(screen) {
  const p = {
    calls: callsPanel(),
    create: can('CreateIncident') ? incidentFormPanel() : null,
    incidents: incidentsPanel(),
    detail: incidentDetailPanel(),
    glass: breakGlassPanel(),
    recs: recommendationsPanel(),
    units: unitsPanel(),
    air: airMissionsPanel(),
    sup: supervisorPanel(),
    kpis: kpisPanel(),
    past: boardAtPanel(),
    cover: coveragePanel(),
  };
  // Three columns on a screen of its own; two beside the map.
  const columns = screen === 'lists'
    ? [[p.calls, p.create], [p.incidents, p.detail, p.glass], [p.recs, p.air, p.units, p.cover, p.sup, p.kpis, p.past]]
    : [[p.calls, p.create, p.detail, p.glass, p.recs], [p.incidents, p.air, p.units, p.cover, p.sup, p.kpis, p.past]];
  return h('section', { class: 'lists-screen', 'aria-label': t('screen.lists') },
    columns.map((col) => h('div', { class: 'column' }, col.filter(Boolean))));
}

function header(dialog) {
  const me = session.me;
  const conn = h('span', { class: 'conn', dataset: { state: 'connecting' }, role: 'status' }, t('conn.connecting'));
  const rev = h('span', { class: 'rev mono', title: t('header.revision') });
  const banner = h('div', { class: 'banner', role: 'alert', hidden: true });
  on('connection', (state) => {
    conn.dataset.state = state;
    conn.textContent = t(`conn.${state}`);
  });
  on('live-error', (err) => {
    banner.hidden = false;
    banner.textContent = `${t('conn.refused_text')}: ${errorText(err)}`;
  });
  const showRev = throttled(() => { rev.textContent = `rev ${store.revision}`; }, 1000);
  for (const topic of ['incidents', 'units', 'owners']) on(topic, showRev);

  const healthRegions = session.reference.health_regions || [];
  const healthRegion = h('select', { id: 'health-region' },
    h('option', { value: '' }, t('health_region.all')),
    healthRegions.map((hr) => h('option', { value: hr.id }, hr.name)));
  healthRegion.value = session.healthRegion;
  healthRegion.addEventListener('change', () => showHealthRegion(healthRegion.value));
  onHealthRegion((id) => { healthRegion.value = id; }); // from the desk's other window

  const lang = h('select', { id: 'lang' }, languages.map((l) => h('option', { value: l }, t(`lang.${l}`))));
  lang.value = language();
  lang.addEventListener('change', () => setLanguage(lang.value));
  const help = h('button', { type: 'button', class: 'icon', 'aria-label': t('keys.title'), title: t('keys.title') }, '?');
  help.addEventListener('click', () => dialog.showModal());
  const logout = h('button', { type: 'button', class: 'secondary' }, t('header.logout'));
  logout.addEventListener('click', async () => {
    try {
      await post('/api/logout', {});
    } finally {
      location.reload();
    }
  });
  const screens = [['map', t('screen.map')], ['lists', t('screen.lists')], ['both', t('screen.both')]]
    .map(([s, label]) => h('a', {
      href: s === 'both' ? '/' : `/?screen=${s}`,
      target: s === 'both' ? '_self' : `amk-${s}`, // the other screen opens in its own window
      'aria-current': screenOf() === s ? 'page' : null,
    }, label));
  return h('header', { class: 'topbar' },
    h('h1', {}, t('app.title')),
    h('span', { id: 'whoami' }, me.name || me.user),
    h('span', { class: 'role' }, `${t(`role.${me.role}`)} · ${centreName(me.centre)}`),
    h('nav', { class: 'screens', 'aria-label': t('screen.choose') }, screens),
    h('span', { class: 'spacer' }),
    conn, rev,
    healthRegions.length ? h('label', { class: 'lang' }, h('span', {}, t('health_region.label')), healthRegion) : null,
    h('label', { class: 'lang' }, h('span', {}, t('header.language')), lang),
    help, logout, banner);
}

boot().catch((err) => {
  console.error(err);
  root.replaceChildren(h('p', { class: 'fatal', role: 'alert' }, `${t('error.boot')}: ${err.message}`));
});
