// The AMK-LA's aircraft at a glance, above its missions: which helicopters and planes of
// the AMK-LA regions the person's centre serves are ready to fly, which are on a mission
// (and for which incident, from which AMK), which are busy otherwise and which are out
// of service. The coordinator answers a request by choosing an aircraft; the choice is
// only as good as this overview, so it is redrawn on every change of a unit or a mission.
// The figures are the live units', as the units panel shows them; nothing here writes.
import { AIRCRAFT, READINESS, readiness } from '../air.js';
import { h } from '../dom.js';
import { en, t } from '../i18n.js';
import { UNIT_KIND_SYMBOL, UNIT_STATUS_COLOUR, symbolImage } from '../map_symbols.js';
import { regionName } from '../session.js';
import { store } from '../state.js';

/** The overview's element and its redraw for the AMK-LA regions in `regions` (a Set). */
export function airFleet() {
  const summary = h('p', { class: 'air-fleet-summary', id: 'air-fleet-summary' });
  const list = h('ul', { class: 'air-fleet-list' });
  const el = h('div', { class: 'air-fleet', id: 'air-fleet' },
    h('h3', {}, t('airfleet.title')), summary, list);

  function draw(regions) {
    const missions = new Map(store.air.map((m) => [m.id, m]));
    const aircraft = [...store.units.values()]
      .filter((u) => regions.has(u.region) && AIRCRAFT.has(u.kind))
      .map((u) => ({ u, state: readiness(u), sign: u.call_sign || u.id }))
      .sort((a, b) => READINESS.indexOf(a.state) - READINESS.indexOf(b.state) || a.sign.localeCompare(b.sign));
    const count = (state) => aircraft.filter((a) => a.state === state).length;
    summary.textContent = aircraft.length
      ? t('airfleet.summary', {
        ready: count('ready'), total: aircraft.length, mission: count('mission'),
        busy: count('busy'), out: count('out'),
      })
      : t('airfleet.none');
    list.replaceChildren(...aircraft.map(({ u, state, sign }) => {
      const symbol = UNIT_KIND_SYMBOL[u.kind];
      const colour = UNIT_STATUS_COLOUR[u.status] || UNIT_STATUS_COLOUR.UNIT_STATUS_UNSPECIFIED;
      // Readiness first, for scanning down the list; an aircraft on a mission says
      // which (its station says nothing then), one busy otherwise says with what.
      return h('li', { class: 'air-aircraft', dataset: { unitId: u.id, readiness: state } },
        symbolImage(symbol.shape, colour, '#10171f', symbol.letter, 16), ' ',
        h('strong', {}, sign), ' · ', h('span', { class: 'air-readiness' }, t(`airfleet.${state}`)),
        state === 'busy' ? ` (${en(u.status)})` : '',
        state === 'mission' ? missionText(missions.get(u.air_mission_id), u.air_mission_id)
          : (u.station ? ` · ${u.station}` : ''));
    }));
  }
  return { el, draw };
}

/** " · incident from region (state)" for an aircraft on `m` (only the mission's id if
 * it is not in the list, e.g. while the stream catches up). */
function missionText(m, id) {
  if (!m) return ` · ${id}`;
  return ` · ${m.incident_id} ${t('airdesk.from')} ${regionName(m.incident_region)} (${en(m.state)})`;
}
