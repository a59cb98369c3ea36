// Incidents this window opened with break-glass: the reason the person stated, sent
// again with every call that names the incident (api.js), and when it was last fetched.
// The live stream follows the regions the person's centre serves, so it does not carry
// these: the page shows them as fetched, not live (docs/web-console.md, "Break-glass").
import { session } from './session.js';

export const opened = new Map(); // incident id -> { reason, fetchedAt (ms) }

/** The break-glass reason for a call of `method` about an opened incident, else
 * undefined. Only methods decided on the incident they name (`me.incident_methods`):
 * a reason stated for the incident must not stretch to a call or a unit of their own. */
export function reasonFor(method, body) {
  const id = body && typeof body === 'object' ? body.incident_id : '';
  if (!id || !(session.me?.incident_methods || []).includes(method)) return undefined;
  return opened.get(id)?.reason;
}

/** Remember (or refresh) an incident fetched with break-glass. */
export function remember(id, reason) {
  opened.set(id, { reason, fetchedAt: Date.now() });
}
