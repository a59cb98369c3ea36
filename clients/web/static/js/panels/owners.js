// Who owns each region now (event: status, ClusterStatus; and the watch's owner
// changes): owner centre, fencing token, standbys, last takeover. During a failover the
// owner empties, then the new owner appears with a higher token.
import { h, timeOfDay } from '../dom.js';
import { num, t } from '../i18n.js';
import { centreColour } from '../map_regions.js';
import { centreName, inHealthRegion, session } from '../session.js';
import { on, store } from '../state.js';

export function ownersPanel() {
  const body = h('tbody', { id: 'owners' });
  const centres = h('p', { class: 'centres' });

  function render() {
    const status = store.status;
    const fromStatus = new Map((status?.regions || []).map((r) => [r.id, r]));
    const ids = new Set([...session.reference.regions.map((r) => r.id), ...fromStatus.keys(), ...Object.keys(store.owners)]);
    const rows = [...ids].filter(inHealthRegion).map((id) => {
      const r = fromStatus.get(id) || {};
      const ref = session.reference.regions.find((x) => x.id === id) || {};
      const owner = id in store.owners ? store.owners[id] : r.owner_centre || '';
      const token = String(store.tokens[id] ?? r.fencing_token ?? '');
      const takeover = takeoverText(r, ref);
      return h('tr', { dataset: { region: id, owner, token }, class: owner ? '' : 'unowned' },
        h('td', {}, h('span', { class: 'swatch', style: `background:${centreColour(owner)}` }), ' ',
          h('strong', {}, ref.code || id), ' ', ref.name || r.name || ''),
        h('td', {}, owner ? centreName(owner) : t('owners.nobody'),
          owner && ref.home && owner !== ref.home ? h('small', { class: 'away' }, ` ${t('owners.home', { home: centreName(ref.home) })}`) : null),
        h('td', { class: 'mono' }, token || '–'),
        h('td', {}, (r.standbys || []).map(centreName).join(', ') || '–'),
        h('td', { class: 'takeover' }, takeover),
        h('td', {}, r.owner_site || ''));
    });
    body.replaceChildren(...rows);
    const list = (status?.centres || [])
      .filter((c) => !session.healthRegion || c.health_region === session.healthRegion);
    centres.replaceChildren(t('owners.centres'), ' ', ...list.map((c) =>
      h('span', { class: `centre ${c.alive ? 'alive' : 'dead'}`, title: c.alive ? t('owners.alive') : t('owners.dead') },
        `${c.alive ? '●' : '○'} ${c.name || c.id}`)));
  }

  on('status', render);
  on('owners', render);
  on('health-region', render);
  render();

  return h('section', { class: 'panel', id: 'owners-panel', 'aria-labelledby': 'owners-title' },
    h('h2', { id: 'owners-title' }, t('owners.title')),
    h('div', { class: 'table-wrap' },
      h('table', { class: 'list' },
        h('thead', {}, h('tr', {}, ['owners.region', 'owners.owner', 'owners.token', 'owners.standbys', 'owners.takeover', 'owners.site']
          .map((k) => h('th', { scope: 'col', title: k === 'owners.token' ? t('owners.token_title') : null }, t(k))))),
        body)),
    centres);
}

/** The region's last takeover in the console's language: who took it from whom, when,
 * at which fencing token and how long it took ("–" when none is on record). A planned
 * hand-over (or the home centre getting its region back) reads differently from a
 * failover, which means a centre was lost. */
function takeoverText(r, ref) {
  if (!r.last_takeover_by) return r.last_takeover || '–';
  const facts = {
    by: centreName(r.last_takeover_by),
    from: centreName(r.last_takeover_from || ''),
    at: timeOfDay(r.last_takeover_at),
    token: String(r.last_takeover_token ?? ''),
    ms: num(r.last_takeover_ms),
  };
  let key = 'owners.claimed_first';
  if (r.last_takeover_handed) key = r.last_takeover_by === ref.home ? 'owners.handed_back' : 'owners.handed';
  else if (r.last_takeover_from) key = 'owners.took_over';
  return t(key, facts);
}
