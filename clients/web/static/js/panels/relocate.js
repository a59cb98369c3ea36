// Where the patient is, told better later in the call (ChangeIncidentLocation): a new
// position (typed, or the last click on the map), a new address, or both. The old place
// goes into a note (the server's). After it, the form says what a move does not do: units
// already sent are not told (radio them: a crew's app does not show incidents), alerts
// already sent keep the old place (phone them), and a place in another region does not
// move the incident there (a supervisor hands it over). A wrong address may be cleared.
import { desk } from '../desk.js';
import { h } from '../dom.js';
import { errorSlot, field, hidden, input, number, rpcForm } from '../forms.js';
import { t } from '../i18n.js';
import { regionAt } from '../map_regions.js';
import { regionName, session } from '../session.js';
import { callSign, putIncident } from '../state.js';

/** The form for incident `id`. */
export function relocateForm(id) {
  const lat = number({ min: -90, max: 90 });
  const lon = number({ min: -180, max: 180 });
  const said = h('p', { class: 'relocate-said', role: 'status' });
  const fromMap = h('button', { type: 'button', class: 'small secondary', dataset: { action: 'use-map-click' } }, t('relocate.use_map'));
  fromMap.addEventListener('click', () => {
    const p = desk.lastClick;
    if (!p) {
      said.textContent = t('relocate.no_click');
      return;
    }
    lat.value = p.lat;
    lon.value = p.lon;
  });
  const clear = h('input', { type: 'checkbox', name: 'clear_address', value: 'true' });
  const form = rpcForm('ChangeIncidentLocation', [
    hidden('incident_id', id), errorSlot('incident_id'),
    h('fieldset', { class: 'position' },
      h('legend', {}, t('relocate.position')),
      field('position.lat', t('form.lat'), lat),
      field('position.lon', t('form.lon'), lon),
      errorSlot('position'), fromMap),
    field('address', t('incident.address'), input({ maxlength: 500 })),
    h('label', { class: 'check' }, clear, ' ', t('relocate.clear_address')),
  ], {
    submit: t('relocate.submit'),
    reset: true,
    // Half a position reaches the gateway as 0° for the other half, which it refuses
    // at that field.
    build: (body) => {
      said.textContent = '';
      if (!body.clear_address) delete body.clear_address;
      return body;
    },
    done: (inc) => {
      putIncident(inc);
      said.replaceChildren(...consequences(inc).map((line) => h('span', {}, line, ' ')));
    },
    extraClass: 'relocate',
  });
  form.prepend(h('h4', {}, t('relocate.title')));
  form.append(said);
  return form;
}

/** What the move did not change, for the dispatcher to act on. */
function consequences(inc) {
  const lines = [t('relocate.done')];
  const units = (inc.assigned_unit_ids || []).map(callSign);
  if (units.length) lines.push(t('relocate.units', { units: units.join(', ') }));
  const told = (a) => a.sent_at && !['ALERT_STATE_CANCELLED', 'ALERT_STATE_DECLINED'].includes(a.state);
  if ((inc.alerts || []).some(told)) lines.push(t('relocate.alerts_sent'));
  const p = inc.position;
  const found = p && session.regionFeatures ? regionAt(session.regionFeatures, p.lat, p.lon) : null;
  if (found && found !== inc.region) lines.push(t('relocate.other_region', { region: regionName(found) }));
  return lines;
}
