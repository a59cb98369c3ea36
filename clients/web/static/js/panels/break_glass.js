// Break-glass from the page: an incident outside the regions the person's centre serves,
// opened by its id with the reason they state. The gateway decides (the role; within the
// window after login) and logs every read with the reason; the page then sends that
// reason with each call about the incident (break_glass.js) and shows it as fetched,
// not live (docs/web-console.md, "Break-glass").
import { rpc } from '../api.js';
import { remember } from '../break_glass.js';
import { selectIncident } from '../desk.js';
import { h } from '../dom.js';
import { field, input, rpcForm, textarea } from '../forms.js';
import { t } from '../i18n.js';
import { can, session } from '../session.js';
import { putIncident, store } from '../state.js';

/** The panel, or null for a role without break-glass. */
export function breakGlassPanel() {
  const until = session.me?.break_glass_until;
  if (until === null || until === undefined || !can('GetIncident')) return null;
  const closes = new Date(until * 1000).toLocaleTimeString('nb-NO', { hour: '2-digit', minute: '2-digit' });
  const form = rpcForm('GetIncident', [
    field('incident_id', t('incident.id'), input({ class: 'mono', maxlength: 64 })),
    field('break_glass', t('breakglass.reason'), textarea({ maxlength: 500 }), t('breakglass.hint')),
  ], {
    submit: t('breakglass.open'),
    call: (method, body) => rpc(method, { incident_id: body.incident_id }, { breakGlass: body.break_glass || '' }),
    done: (incident, f) => {
      // One the live stream already holds is in scope: no break-glass to remember.
      if (!store.incidents.has(incident.id)) remember(incident.id, f.elements.break_glass.value.trim());
      putIncident(incident);
      selectIncident(incident.id);
      f.reset();
    },
    extraClass: 'break-glass-form',
  });
  return h('section', { class: 'panel', id: 'break-glass', 'aria-labelledby': 'break-glass-title' },
    h('details', {},
      h('summary', {}, h('h2', { id: 'break-glass-title' }, t('breakglass.title'))),
      h('p', { class: 'hint' }, t('breakglass.window', { time: closes })),
      form));
}
