// The AMK-LA's aircraft at a glance, above its missions: which helicopters and planes of
// the AMK-LA regions the person's centre serves are ready to fly, which are on a mission
// (and for which incident, from which AMK), which are busy otherwise and which are out
// of service. The coordinator answers a request by choosing an aircraft; the choice is
// only as good as this overview, so it is redrawn with every change of units, missions
// or owners the panel gets. The figures are the live units', as the units panel shows
// them; nothing here writes.
import { AIRCRAFT, READINESS, missionIncident, readiness } from '../air.js';
import { h } from '../dom.js';
import { en, t } from '../i18n.js';
import { unitIcon } from '../map_symbols.js';
import { callSign, store } from '../state.js';

/** The overview: its element, and `draw(regions)` for the AMK-LA regions (a Set) the
 * centre serves now. */
export function airFleet() {
  const summary = h('p', { class: 'air-fleet-summary', id: 'air-fleet-summary' });
  const list = h('ul', { class: 'air-fleet-list' });
  const el = h('div', { class: 'air-fleet', id: 'air-fleet' },
    h('h3', {}, t('airfleet.title')), summary, list);

  function draw(regions) {
    if (regions.size === 0) return; // the panel is hidden
    const missions = new Map(store.air.map((m) => [m.id, m]));
    const aircraft = [...store.units.values()]
      .filter((u) => regions.has(u.region) && AIRCRAFT.has(u.kind))
      .map((u) => ({ u, state: readiness(u), sign: callSign(u.id) }))
      .sort((a, b) => READINESS.indexOf(a.state) - READINESS.indexOf(b.state) || a.sign.localeCompare(b.sign));
    const count = (state) => aircraft.filter((a) => a.state === state).length;
    // Busy otherwise is rare (an aircraft is not assigned to incidents): said only then.
    summary.textContent = aircraft.length
      ? [t('airfleet.summary', { ready: count('ready'), total: aircraft.length, mission: count('mission'), out: count('out') }),
        count('busy') ? t('airfleet.summary_busy', { busy: count('busy') }) : ''].filter(Boolean).join(' · ')
      : t('airfleet.none');
    list.replaceChildren(...aircraft.map(({ u, state, sign }) =>
      // Readiness first, for scanning down the list; an aircraft on a mission says
      // which (its station says nothing then), one busy otherwise says in what status.
      h('li', { class: 'air-aircraft', dataset: { unitId: u.id, readiness: state } },
        unitIcon(u.kind, u.status, 16), ' ',
        h('strong', {}, sign), ' · ', h('span', { class: 'air-readiness' }, t(`airfleet.${state}`)),
        state === 'busy' ? ` (${en(u.status)})` : '',
        state === 'mission' ? missionText(missions.get(u.air_mission_id), u.air_mission_id)
          : (u.station ? ` · ${u.station}` : ''))));
  }
  return { el, draw };
}

/** " · incident from region (state)" for an aircraft on `m` (only the mission's id if
 * it is not in the list, e.g. while the stream catches up). */
function missionText(m, id) {
  if (!m) return ` · ${id}`;
  return ` · ${missionIncident(m)} (${en(m.state)})`;
}
