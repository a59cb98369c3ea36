// A new incident (CreateIncident): the region, the position from a click on the map (the
// region follows from where the click falls), address, caller, notes, and the answered
// call it comes from. An answered 113 call fills the form.
import { desk, onMapClick, selectIncident } from '../desk.js';
import { h } from '../dom.js';
import { errorSlot, field, input, number, rpcForm, select, textarea } from '../forms.js';
import { t } from '../i18n.js';
import { regionAt } from '../map_regions.js';
import { areaRegions, session } from '../session.js';
import { emit, on, putIncident } from '../state.js';

export function incidentFormPanel() {
  const region = select(areaRegions().map((r) => [r.id, `${r.name} (${r.code})`]), { blank: t('form.choose_region') });
  const lat = number({ min: -90, max: 90 });
  const lon = number({ min: -180, max: 180 });
  const address = input({ maxlength: 500 });
  const caller = input({ type: 'tel', maxlength: 32 });
  const notes = textarea({ maxlength: 2000 });
  const callId = input({ class: 'mono' });
  const done = h('p', { class: 'done', role: 'status' });

  let fromCall = ''; // the answered call the incident is made from, if any
  const form = rpcForm('CreateIncident', [
    field('region', t('incident.region'), region),
    h('fieldset', { class: 'position' },
      h('legend', {}, t('incident.position')),
      field('position.lat', t('form.lat'), lat),
      field('position.lon', t('form.lon'), lon),
      errorSlot('position'),
      h('small', { class: 'hint' }, t('form.click_map'))),
    field('address', t('incident.address'), address),
    field('caller_number', t('incident.caller_number'), caller),
    field('notes', t('incident.notes'), notes),
    field('call_id', t('form.call_id'), callId, t('form.call_id_hint')),
  ], {
    reset: true,
    build: (body) => { fromCall = body.call_id || ''; return body; },
    done: (incident) => {
      // Made from an answered call: the call is over (the calls panel hides it).
      if (fromCall) emit('call-ended', fromCall);
      putIncident(incident);
      selectIncident(incident.id);
      // The gateway's warnings (a place in another region's area), as it words them, as
      // its refusals are shown: the incident is made, the dispatcher decides.
      done.textContent = [t('form.created', { id: incident.id }), ...(incident.warnings || [])].join(' ');
    },
  });
  form.dataset.escape = 'reset';

  const setPosition = (p) => {
    lat.value = p.lat;
    lon.value = p.lon;
    const found = session.regionFeatures ? regionAt(session.regionFeatures, p.lat, p.lon) : null;
    if (found) region.value = found;
  };
  onMapClick((p) => setPosition(p));
  on('call-answered', (call) => {
    form.reset();
    if (call.position) setPosition(call.position);
    if (call.region) region.value = call.region;
    caller.value = call.caller_number || '';
    callId.value = call.id;
    address.focus();
  });
  // The call ended (closed, linked, or made an incident): the form no longer makes an
  // incident of it.
  on('call-ended', (id) => {
    if (callId.value === id) form.reset();
  });
  // Alt+N: a new incident at the last click on the map, else at the map's centre.
  on('shortcut-new-incident', () => {
    const p = desk.lastClick || desk.mapCentre;
    if (p) setPosition(p);
    address.focus();
  });

  return h('section', { class: 'panel', id: 'new-incident-panel', 'aria-labelledby': 'new-incident-title' },
    h('h2', { id: 'new-incident-title' }, t('incident.new')), form, done);
}
