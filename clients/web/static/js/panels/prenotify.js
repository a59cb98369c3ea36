// Hospital pre-notification from the selected incident: the dispatcher asks for the
// hospitals that suit the patient (RecommendDestination: trauma level, stroke
// thrombolysis or thrombectomy, PCI, and the ETA; the condition is suggested from the
// criteria code when none is chosen), takes one with a click, and sends the patient's
// key data (SendPreNotification). The hospital's team gets an absolute arrival time it
// can plan by; the notification then shows among the incident's alerts, with its
// acknowledgement, as any other.
import { rpc } from '../api.js';
import { clock, h } from '../dom.js';
import { act, errorSlot, field, hidden, number, rpcForm, select, textarea } from '../forms.js';
import { en, t } from '../i18n.js';
import { can, session } from '../session.js';

const CONDITIONS = ['DESTINATION_CONDITION_TRAUMA', 'DESTINATION_CONDITION_STROKE',
  'DESTINATION_CONDITION_STEMI', 'DESTINATION_CONDITION_OTHER'];
const SEXES = ['PRE_NOTIFICATION_SEX_FEMALE', 'PRE_NOTIFICATION_SEX_MALE', 'PRE_NOTIFICATION_SEX_UNKNOWN'];

/** The pre-notification form for incident `id`, with its hospital suggestions. */
export function preNotifyForm(id) {
  const hospitals = [...(session.reference.hospitals || [])].sort((a, b) => a.name.localeCompare(b.name, 'nb'));
  const condition = select(CONDITIONS.map((c) => [c, en(c)]), { blank: t('prenotify.suggested') });
  const hospital = select(hospitals.map((x) => [x.id, x.name]), { blank: '–' });
  const onset = h('input', { type: 'datetime-local' });
  const list = h('ol', { class: 'destinations', id: `destinations-${id}` });
  const err = h('span', { class: 'form-error' });
  const parts = [hidden('incident_id', id), errorSlot('incident_id'),
    field('condition', t('prenotify.condition'), condition)];
  if (can('RecommendDestination')) {
    const suggest = h('button', { type: 'button', class: 'small secondary', dataset: { action: 'RecommendDestination' } },
      t('action.RecommendDestination'));
    suggest.addEventListener('click', () => act(suggest, err, async () => {
      const body = { incident_id: id, limit: 5 };
      if (condition.value) body.condition = condition.value;
      const res = await rpc('RecommendDestination', body);
      if (!condition.value && res.condition) condition.value = res.condition;
      list.replaceChildren(...(res.destinations || []).map((d) => destination(d, hospital)));
      return res;
    }));
    parts.push(h('div', { class: 'form-actions' }, suggest, err), list);
  }
  parts.push(
    field('hospital_id', t('prenotify.hospital'), hospital),
    field('age', t('prenotify.age'), number({ min: 0, max: 130, step: 1 })),
    field('sex', t('prenotify.sex'), select(SEXES.map((s) => [s, en(s)]), { blank: '–' })),
    field('findings', t('prenotify.findings'), textarea({ maxlength: 2000 })),
    field('free_text', t('prenotify.free_text'), textarea({ maxlength: 2000 })),
    field('symptom_onset', t('prenotify.symptom_onset'), onset),
  );
  return rpcForm('SendPreNotification', parts, {
    // The browser's local time of onset as an instant (the API takes a timestamp).
    build: (body) => {
      if (body.symptom_onset) body.symptom_onset = new Date(body.symptom_onset).toISOString();
      return body;
    },
    done: () => list.replaceChildren(),
    reset: true,
    extraClass: 'prenotify-form',
  });
}

/** One suggested hospital: rank, name, ETA and the reason in words; a click takes it. */
function destination(d, hospital) {
  const take = h('button', { type: 'button', class: 'small', dataset: { action: 'take-hospital' } }, t('prenotify.take'));
  take.addEventListener('click', () => { hospital.value = d.hospital_id; hospital.focus(); });
  const uncertain = (d.uncertain || []).length ? h('small', { class: 'note' }, t('prenotify.uncertain', { what: d.uncertain.join(', ') })) : null;
  return h('li', { dataset: { hospitalId: d.hospital_id, capable: String(Boolean(d.capable)) } },
    h('strong', {}, d.hospital_name || d.hospital_id), ` · ${clock(Number(d.eta_s))} · `,
    h('span', { class: 'reason' }, d.reason || ''), ' ', take, uncertain);
}
