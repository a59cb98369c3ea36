// The board at a past moment (GetBoardAt): what a supervisor looks back at after a
// complaint or for a review ("what was open, and what was every ambulance doing, when
// that call came at 14:02?"): the incidents open then with their units, every unit's
// status, and which centre held each region; on the map, where each was then
// (map_past.js). The gateway rebuilds it from the journal, live and archived. Asked for with a button, never refreshed by itself: every incident shown is
// a patient's record read, and logged as such.
import { showPastBoard } from '../desk.js';
import { dateTime, fill, h } from '../dom.js';
import { callMarking, errorSlot, field, rpcForm } from '../forms.js';
import { en, t } from '../i18n.js';
import { can, centreName, regionName } from '../session.js';

const DEFAULT_BACK_MS = 60 * 60 * 1000; // an hour ago: the usual question is today's
const HOW = ['TakeOver', 'HandOverRegion']; // how a region's owner came to hold it

/** The value of a datetime-local input for ``ms`` since the epoch, in this browser's
 * time zone (the input has none: it shows and takes the local wall clock). */
function localValue(ms) {
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function boardAtPanel() {
  if (!can('GetBoardAt')) return null;
  const at = h('input', { type: 'datetime-local', step: '1' });
  at.value = localValue(Date.now() - DEFAULT_BACK_MS);
  const out = h('div', { id: 'board-at', class: 'board-at', dataset: { state: 'idle' } });
  const form = rpcForm('GetBoardAt', [field('at', t('board_at.at'), at, t('board_at.hint')), errorSlot('regions')], {
    submit: t('board_at.show'),
    // Empty regions: the gateway answers for the regions this person's centre serves.
    // An unreadable moment is sent as it is, for the server to name the field.
    build: (body) => {
      const ms = Date.parse(at.value); // local wall clock, as typed
      return { ...body, at: Number.isFinite(ms) ? new Date(ms).toISOString() : at.value };
    },
    call: callMarking(out, out),
    done: (board) => {
      show(out, board);
      showPastBoard(board); // on the map too, under the live markers, until taken away
    },
  });
  return h('section', { class: 'panel', id: 'board-at-panel', 'aria-labelledby': 'board-at-title' },
    h('h2', { id: 'board-at-title' }, t('board_at.title')), form, out);
}

function show(out, board) {
  const incidents = board.incidents || [];
  const units = board.units || [];
  const callSign = new Map(units.map((u) => [u.id, u.call_sign || u.id]));
  out.dataset.state = 'shown';
  out.dataset.at = board.at || '';
  fill(out,
    // Read aloud on its own, not the whole board; with the zone's offset, since a
    // moment typed in the hour the clocks go back is the first of the two.
    h('p', { class: 'board-at-summary', role: 'status' }, t('board_at.summary', {
      at: withOffset(board.at), incidents: incidents.length, units: units.length,
      versions: Number(board.versions) || 0,
    })),
    owners(board.owners || []),
    incidents.length
      ? h('ul', { class: 'board-at-incidents' }, incidents.map((i) => incidentLine(i, callSign)))
      : h('p', { class: 'empty' }, t('board_at.no_incidents')),
    units.length ? unitList(units) : null);
}

/** "28.11.2026, 14:02:05 CET": the moment to the second, in this browser's zone. */
function withOffset(ts) {
  const ms = Date.parse(ts);
  return Number.isFinite(ms)
    ? new Date(ms).toLocaleString('nb-NO', { hour12: false, dateStyle: 'short', timeStyle: 'long' })
    : '–';
}

function owners(list) {
  if (!list.length) return null;
  return h('ul', { class: 'board-at-owners' }, list.map((o) => h('li', { dataset: { region: o.region, centre: o.centre } },
    `${regionName(o.region)}: ${centreName(o.centre)}`,
    h('span', { class: 'meta' }, ` ${t('board_at.owner_since', { at: dateTime(o.since), how: t(`board_at.how.${HOW.includes(o.how) ? o.how : 'unknown'}`) })}`))));
}

function incidentLine(inc, callSign) {
  const urgency = inc.urgency && inc.urgency !== 'URGENCY_UNSPECIFIED' ? en(inc.urgency) : t('map.untriaged');
  const assigned = (inc.assigned_unit_ids || []).map((id) => callSign.get(id) || id);
  const facts = [urgency, en(inc.status), inc.criteria_code, regionName(inc.region), inc.address,
    assigned.length ? t('board_at.units_on', { units: assigned.join(', ') }) : t('board_at.no_unit')];
  return h('li', { class: 'board-at-incident', dataset: { id: inc.id } },
    h('span', { class: 'meta' }, `${dateTime(inc.created_at)} `), h('span', { class: 'mono' }, inc.id), ' · ',
    facts.filter(Boolean).join(' · '));
}

/** Every unit then, folded: how many had each status, and each one's line on demand. */
function unitList(units) {
  const byStatus = new Map();
  for (const u of units) byStatus.set(u.status, (byStatus.get(u.status) || 0) + 1);
  const counts = [...byStatus].sort((a, b) => b[1] - a[1]).map(([s, n]) => `${n} ${en(s)}`).join(', ');
  const sorted = [...units].sort((a, b) => (a.call_sign || a.id).localeCompare(b.call_sign || b.id));
  return h('details', { class: 'board-at-units' },
    h('summary', {}, t('board_at.units', { n: units.length, counts })),
    h('ul', {}, sorted.map((u) => h('li', { dataset: { id: u.id, status: u.status } },
      h('span', { class: 'mono' }, u.call_sign || u.id), ' · ', en(u.status),
      u.incident_id ? ` · ${u.incident_id}` : '', ` · ${regionName(u.region)}`))));
}
