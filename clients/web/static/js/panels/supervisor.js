// The supervisor's actions: hand a region over to another centre and back, call sharing
// on or off, major incidents (declare, list, stand down), and a person's access (suspend,
// reinstate, who is suspended now). Each form is there only if the role may call its
// method.
import { rpc } from '../api.js';
import { onMapClick } from '../desk.js';
import { dateTime, h, timeOfDay } from '../dom.js';
import { act, errorSlot, field, input, number, rpcForm, select, textarea } from '../forms.js';
import { t } from '../i18n.js';
import { areaRegions, can, centreName, regionName, session } from '../session.js';
import { CLOSED, putRegionStatus, store } from '../state.js';

const ACTIONS = ['HandOverRegion', 'HandBackRegion', 'SetCallSharing', 'DeclareMajorIncident', 'ListMajorIncidents',
  'SuspendPerson', 'ReinstatePerson', 'ListSuspensions'];

export function supervisorPanel() {
  if (!ACTIONS.some(can)) return null;
  const regionSelect = () => select(session.reference.regions.map((r) => [r.id, `${r.name} (${r.code})`]), { blank: t('form.choose_region') });
  const done = h('p', { class: 'done', role: 'status' });
  const parts = [];

  if (can('HandOverRegion')) {
    const centres = select(session.reference.centres.map((c) => [c.id, c.name]), { blank: t('form.choose_centre') });
    // A whole region's incidents, units and calls move in one click: asked first, with
    // how many open incidents go; the form is emptied after, so a second click does not
    // hand it on again.
    const confirmed = async (method, body) => {
      const open = [...store.incidents.values()].filter((i) => i.region === body.region && !CLOSED.has(i.status)).length;
      if (body.region && body.to_centre && !window.confirm(t('sup.confirm_hand_over', {
        region: regionName(body.region), centre: centreName(body.to_centre), n: open,
      }))) throw new Error(t('sup.not_handed_over'));
      return rpc(method, body);
    };
    parts.push(box('HandOverRegion', rpcForm('HandOverRegion', [
      field('region', t('incident.region'), regionSelect()),
      field('to_centre', t('sup.to_centre'), centres),
    ], { call: confirmed, reset: true, done: (r) => { putRegionStatus(r); done.textContent = t('sup.handed_over', { region: regionName(r.id), centre: centreName(r.owner_centre) }); } })));
  }
  if (can('HandBackRegion')) {
    parts.push(box('HandBackRegion', rpcForm('HandBackRegion', [
      field('region', t('incident.region'), regionSelect()),
    ], { done: (r) => { putRegionStatus(r); done.textContent = t('sup.handed_back', { region: regionName(r.id), centre: centreName(r.owner_centre) }); } })));
  }
  if (can('SetCallSharing')) {
    const sharing = h('input', { type: 'checkbox' });
    parts.push(box('SetCallSharing', rpcForm('SetCallSharing', [
      field('region', t('incident.region'), select(areaRegions().map((r) => [r.id, r.name]), { blank: t('form.choose_region') })),
      h('div', { class: 'field checkbox' }, h('label', {}, sharing, ' ', t('sup.sharing_on')),
        h('div', { class: 'field-error', dataset: { field: 'sharing' } })),
    ], {
      build: (body) => ({ ...body, sharing: sharing.checked }),
      done: (r) => { done.textContent = t(r.sharing ? 'sup.sharing_now_on' : 'sup.sharing_now_off', { region: regionName(r.region) }); },
    })));
    sharing.name = 'sharing';
  }
  let majorList = null;
  if (can('DeclareMajorIncident')) {
    const lat = number();
    const lon = number();
    onMapClick((p) => { lat.value = p.lat; lon.value = p.lon; });
    parts.push(box('DeclareMajorIncident', rpcForm('DeclareMajorIncident', [
      field('region', t('incident.region'), select(areaRegions().map((r) => [r.id, r.name]), { blank: t('form.choose_region') })),
      h('fieldset', { class: 'position' }, h('legend', {}, t('incident.position')),
        field('position.lat', t('form.lat'), lat), field('position.lon', t('form.lon'), lon), errorSlot('position')),
      field('kind', t('sup.kind'), input({ placeholder: t('sup.kind_placeholder') })),
      field('expected_patients', t('sup.expected_patients'), number({ min: 0, step: 1 })),
    ], { reset: true, done: (m) => { done.textContent = t('sup.declared', { id: m.id }); refreshMajors(); } })));
  }
  if (can('ListMajorIncidents')) {
    majorList = h('ul', { id: 'major-incidents', class: 'majors' });
    parts.push(listBox('ListMajorIncidents', t('sup.majors'), majorList, refreshMajors));
  }

  // A person's access: stopped at once at every gateway (README "Suspending a person").
  let suspendedList = null;
  const personFields = () => [
    field('user', t('sup.user'), input({ autocomplete: 'off' })),
    field('reason', t('sup.reason'), textarea({ rows: 2 })),
  ];
  if (can('SuspendPerson')) {
    parts.push(box('SuspendPerson', rpcForm('SuspendPerson', personFields(), {
      reset: true,
      done: (d) => { done.textContent = t('sup.suspended_done', { user: d.user }); refreshSuspended(); },
    })));
  }
  if (can('ReinstatePerson')) {
    parts.push(box('ReinstatePerson', rpcForm('ReinstatePerson', personFields(), {
      reset: true,
      done: (d) => { done.textContent = t('sup.reinstated_done', { user: d.user }); refreshSuspended(); },
    })));
  }
  if (can('ListSuspensions')) {
    suspendedList = h('ul', { id: 'suspensions', class: 'majors' });
    parts.push(listBox('ListSuspensions', t('sup.suspensions'), suspendedList, refreshSuspended));
  }

  async function refreshSuspended(button = null, error = null) {
    if (!suspendedList) return;
    const run = async () => {
      const res = await rpc('ListSuspensions', {});
      suspendedList.replaceChildren(...(res.decisions || []).map((d) => h('li', { dataset: { user: d.user } },
        h('strong', {}, d.user), ` · ${d.reason} · `,
        t('sup.suspension_by', { by: d.decided_by_name || d.decided_by }),
        d.at ? h('small', {}, ` ${dateTime(d.at)}`) : null)));
      if (!suspendedList.children.length) suspendedList.append(h('li', { class: 'empty' }, t('sup.no_suspensions')));
    };
    if (button) await act(button, error, run);
    else await run().catch(() => {});
  }

  async function refreshMajors(button = null, error = null) {
    if (!majorList) return;
    const run = async () => {
      const res = await rpc('ListMajorIncidents', {});
      majorList.replaceChildren(...(res.major_incidents || []).map(majorRow));
      if (!majorList.children.length) majorList.append(h('li', { class: 'empty' }, t('sup.no_majors')));
    };
    if (button) await act(button, error, run);
    else await run().catch(() => {});
  }

  function majorRow(m) {
    const li = h('li', { dataset: { majorIncidentId: m.id, status: m.status } },
      h('strong', {}, m.kind || m.id), ` · ${regionName(m.region)} · `,
      t('sup.major_line', { patients: m.expected_patients, incidents: (m.incident_ids || []).length, status: m.status }),
      m.declared_at ? h('small', {}, ` ${timeOfDay(new Date(Number(m.declared_at) * 1000).toISOString())}`) : null);
    if (can('StandDownMajorIncident') && m.status !== 'stood_down') {
      const b = h('button', { type: 'button', class: 'small danger', dataset: { action: 'StandDownMajorIncident' } }, t('action.StandDownMajorIncident'));
      const err = h('span', { class: 'form-error' });
      b.addEventListener('click', () => act(b, err, async () => {
        await rpc('StandDownMajorIncident', { major_incident_id: m.id });
        await refreshMajors();
      }));
      li.append(' ', b, err);
    }
    return li;
  }

  refreshMajors();
  refreshSuspended();
  return h('section', { class: 'panel', id: 'supervisor-panel', 'aria-labelledby': 'sup-title' },
    h('h2', { id: 'sup-title' }, t('sup.title')), done, ...parts);
}

/** A list in a box of its own, with the button that fills it again (`method`);
 * `refresh(button, errorEl)` shows a failure in the box. */
function listBox(method, title, list, refresh) {
  const error = h('div', { class: 'form-error', role: 'alert' });
  const b = h('button', { type: 'button', class: 'secondary', dataset: { action: method } }, t(`action.${method}`));
  b.addEventListener('click', () => refresh(b, error));
  return h('div', { class: 'box' }, h('h3', {}, title), b, error, list);
}

function box(method, form) {
  form.dataset.escape = 'reset';
  return h('div', { class: 'box' }, h('h3', {}, t(`sup.${method}`)), form);
}
