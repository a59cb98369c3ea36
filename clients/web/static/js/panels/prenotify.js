// Hospital pre-notification (forvarsel) from the selected incident: the dispatcher asks
// for the hospitals that suit the patient (RecommendDestination: trauma level, stroke
// thrombolysis or thrombectomy, PCI, and the ETA from the transporting unit; the
// condition is suggested from the criteria code when none is chosen), takes one with a
// click, and sends the patient's key data (SendPreNotification). The hospital's team
// gets an absolute arrival time it can plan by; the notification then shows among the
// incident's alerts, with its acknowledgement, as any other. Only hospitals with a
// pre-notification endpoint can be chosen; the others are listed with "phone them".
import { rpc } from '../api.js';
import { h, timeOfDay } from '../dom.js';
import { act, errorSlot, field, hidden, input, rpcForm, select, textarea } from '../forms.js';
import { en, language, t } from '../i18n.js';
import { can, session } from '../session.js';
import { callSign, store } from '../state.js';

const CONDITIONS = ['DESTINATION_CONDITION_TRAUMA', 'DESTINATION_CONDITION_STROKE',
  'DESTINATION_CONDITION_STEMI', 'DESTINATION_CONDITION_OTHER'];
const SEXES = ['PRE_NOTIFICATION_SEX_FEMALE', 'PRE_NOTIFICATION_SEX_MALE', 'PRE_NOTIFICATION_SEX_UNKNOWN'];

/** The pre-notification form for incident `id`, with its hospital suggestions. */
export function preNotifyForm(id) {
  const hospitals = [...(session.reference.hospitals || [])].sort((a, b) => a.name.localeCompare(b.name, 'nb'));
  const condition = select(CONDITIONS.map((c) => [c, en(c)]), { blank: t('prenotify.choose_or_suggest') });
  const hospital = select([], { blank: '–' });
  for (const x of hospitals) {
    hospital.append(h('option', { value: x.id, disabled: !x.prenotify },
      x.prenotify ? x.name : t('prenotify.phone_them', { name: x.name })));
  }
  // The transporting unit: its position and kind start the ETA. An incident with one
  // unit needs no choice (the server takes it); with several, the dispatcher names one.
  // Units assigned after the form was drawn are added when the dispatcher opens the list.
  const unit = h('select', {});
  const fillUnits = () => {
    const assigned = store.incidents.get(id)?.assigned_unit_ids || [];
    const keep = unit.value;
    unit.replaceChildren(h('option', { value: '' }, assigned.length === 1 ? '–' : t('prenotify.choose_unit')),
      ...assigned.map((u) => h('option', { value: u }, callSign(u))));
    unit.value = assigned.includes(keep) ? keep : (assigned.length === 1 ? assigned[0] : '');
  };
  fillUnits();
  unit.addEventListener('focus', fillUnits);
  unit.addEventListener('mousedown', fillUnits);
  const onset = h('input', { type: 'datetime-local' });
  const list = h('ol', { class: 'destinations', id: `destinations-${id}` });
  const err = h('span', { class: 'form-error' });
  let suggested = ''; // the condition the last suggestion was ranked for
  const parts = [hidden('incident_id', id), errorSlot('incident_id'),
    field('condition', t('prenotify.condition'), condition),
    field('unit_id', t('prenotify.unit'), unit)];
  if (can('RecommendDestination')) {
    const suggest = h('button', { type: 'button', class: 'small secondary', dataset: { action: 'RecommendDestination' } },
      t('action.RecommendDestination'));
    suggest.addEventListener('click', () => act(suggest, err, async () => {
      const body = { incident_id: id, limit: 5 };
      if (condition.value) body.condition = condition.value;
      if (unit.value) body.unit_id = unit.value;
      const res = await rpc('RecommendDestination', body);
      suggested = res.condition || '';
      if (!condition.value && suggested) condition.value = suggested;
      list.replaceChildren(...(res.destinations || []).map((d) => destination(d, hospital, hospitals)));
      return res;
    }));
    parts.push(h('div', { class: 'form-actions' }, suggest, err), list);
  }
  parts.push(
    field('hospital_id', t('prenotify.hospital'), hospital),
    field('age', t('prenotify.age'), input({ type: 'number', min: 0, max: 130, step: 1, inputmode: 'numeric' })),
    field('sex', t('prenotify.sex'), select(SEXES.map((s) => [s, en(s)]), { blank: '–' })),
    field('findings', t('prenotify.findings'), textarea({ maxlength: 2000 })),
    field('free_text', t('prenotify.free_text'), textarea({ maxlength: 2000 })),
    field('symptom_onset', t('prenotify.symptom_onset'), onset),
  );
  return rpcForm('SendPreNotification', parts, {
    build: (body) => {
      // A blank condition is the one the suggestion was ranked for, if one was asked.
      if (!body.condition && suggested) body.condition = suggested;
      // The browser's local time of onset as an instant (the API takes a timestamp); a
      // value the browser cannot read is left for the server to refuse at the field.
      const at = body.symptom_onset ? new Date(body.symptom_onset) : null;
      if (at && Number.isFinite(at.getTime())) body.symptom_onset = at.toISOString();
      return body;
    },
    done: () => { list.replaceChildren(); suggested = ''; },
    reset: true,
    extraClass: 'prenotify-form',
  });
}

/** One suggested hospital: rank, name, arrival time and the reason in words (the rule
 * that put it there, and whether it lacks what the condition asks for); a click takes
 * it, if it takes pre-notifications. */
function destination(d, hospital, hospitals) {
  const known = hospitals.find((x) => x.id === d.hospital_id);
  // The server's words in the console's language (actors/domain/phrases.py).
  const nb = language() === 'nb';
  const note = (nb && d.note_nb) || d.note || '';
  const li = h('li', { dataset: { hospitalId: d.hospital_id, capable: String(Boolean(d.capable)) }, class: d.capable ? '' : 'not-capable' },
    h('strong', {}, d.hospital_name || d.hospital_id),
    d.expected_arrival ? ` · ${t('prenotify.arrival', { at: timeOfDay(d.expected_arrival) })}` : '',
    ' · ', h('span', { class: 'reason' }, (nb && d.reason_nb) || d.reason || ''),
    d.capable ? null : h('small', { class: 'note' }, ` ${t('prenotify.not_capable')}`),
    note ? h('small', { class: 'note' }, ` ${note}`) : null);
  if (known?.prenotify) {
    const take = h('button', { type: 'button', class: 'small', dataset: { action: 'take-hospital' } }, t('prenotify.take'));
    take.addEventListener('click', () => { hospital.value = d.hospital_id; hospital.focus(); });
    li.append(' ', take);
  } else {
    li.append(h('small', { class: 'note' }, ` ${t('prenotify.no_endpoint')}`));
  }
  return li;
}
