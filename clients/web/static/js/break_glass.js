// Incidents this window opened with break-glass: the reason the person stated, sent
// again with every call that names the incident (api.js), and when it was last fetched.
// The live stream follows the regions the person's centre serves, so it does not carry
// these: the page shows them as fetched, not live (docs/web-console.md, "Break-glass").
export const opened = new Map(); // incident id -> { reason, fetchedAt (ms) }

/** The break-glass reason for a call whose body names an opened incident, else undefined. */
export function reasonFor(body) {
  const id = body && typeof body === 'object' ? body.incident_id : '';
  return id ? opened.get(id)?.reason : undefined;
}

/** Remember (or refresh) an incident fetched with break-glass. */
export function remember(id, reason) {
  opened.set(id, { reason, fetchedAt: Date.now() });
}
