// Break-glass from the page: an incident outside the regions the person's centre serves,
// opened by its id with the reason they state. It is asked for without the reason first:
// an incident in scope opens as any other, and no break-glass is logged for it. The
// gateway decides (the role; within the window after login) and logs every read with the
// reason; the page then sends that reason with each call about the incident
// (break_glass.js) and shows it as fetched, not live (docs/web-console.md, "Break-glass").
import { rpc } from '../api.js';
import { remember } from '../break_glass.js';
import { selectIncident } from '../desk.js';
import { h } from '../dom.js';
import { field, input, rpcForm } from '../forms.js';
import { t } from '../i18n.js';
import { can, session } from '../session.js';
import { putIncident } from '../state.js';

/** GetIncident as the person may without break-glass (in scope: the gateway says yes,
 * nothing is broken and the reason is not used), else with the reason: the incident,
 * and the reason when break-glass opened it. */
async function open(method, body) {
  const request = { incident_id: body.incident_id };
  try {
    return { incident: await rpc(method, request, { breakGlass: undefined }), reason: undefined };
  } catch (err) {
    if (err.code !== 'PERMISSION_DENIED') throw err;
  }
  const reason = (body.break_glass || '').split(/\s+/).filter(Boolean).join(' ');
  return { incident: await rpc(method, request, { breakGlass: reason }), reason };
}

/** The panel, or null for a role without break-glass. */
export function breakGlassPanel() {
  const until = session.me?.break_glass_until;
  if (until === null || until === undefined || !can('GetIncident')) return null;
  const closes = new Date(until * 1000).toLocaleTimeString('nb-NO', { hour: '2-digit', minute: '2-digit' });
  const form = rpcForm('GetIncident', [
    field('incident_id', t('incident.id'), input({ class: 'mono', maxlength: 64 })),
    field('break_glass', t('breakglass.reason'), input({ maxlength: 500 }), t('breakglass.hint')),
  ], {
    submit: t('breakglass.open'),
    call: open,
    done: ({ incident, reason }, f) => {
      if (reason !== undefined) remember(incident.id, reason);
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
