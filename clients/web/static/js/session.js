// Who is signed in (GET /api/me) and the public reference data (GET /api/reference).
// An action is rendered only when its method is in me.methods: `can` is the one test.
export const session = {
  me: null,
  reference: { health_regions: [], regions: [], centres: [], hospitals: [], airports: [], stations: [], criteria: [], chapters: [] },
  healthRegion: '', // the health region shown ('' = all): the header's select, desk.js
};

export function can(method) {
  return Boolean(session.me && Array.isArray(session.me.methods) && session.me.methods.includes(method));
}

export function centreById(id) {
  return session.reference.centres.find((c) => c.id === id);
}

export function regionById(id) {
  return session.reference.regions.find((r) => r.id === id);
}

export function centreName(id) {
  return centreById(id)?.name || id || '–';
}

export function regionName(id) {
  return regionById(id)?.name || id || '–';
}

/** The health region a region belongs to (its home centre's; '' if the seed has none). */
export function healthRegionOf(regionId) {
  return regionById(regionId)?.health_region || '';
}

/** Whether a region is shown under the health-region filter. */
export function inHealthRegion(regionId) {
  return !session.healthRegion || healthRegionOf(regionId) === session.healthRegion;
}

/** Regions a 113 call or an incident can be in (those with an area on the map). */
export function areaRegions() {
  const withArea = session.areaRegionIds;
  const regions = session.reference.regions;
  return withArea && withArea.size ? regions.filter((r) => withArea.has(r.id)) : regions;
}
