// The board at a past moment on the map (the supervisor's panel, board_at.js, sends it
// over the desk's channel, so the map window of a two-window desk draws it too): every
// unit where it was then (after a retention of position reports, where its last status
// change put it) and every incident open then, a faint shape with a dashed edge in its
// status's or urgency's colour, larger than a live marker and under it (so a unit that
// has not moved since is a dashed halo around its live marker), and a box on the map
// that says which moment they are and takes them away. Hover shows what each was; a
// click there is a click on the map (it selects nothing of then: an incident of then may
// be closed and archived now, and the live board is what one acts on).
/* global L */
import { dateTime, h, tipHtml } from './dom.js';
import { en, t } from './i18n.js';
import { SymbolMarker, UNIT_KIND_SYMBOL, UNIT_STATUS_COLOUR, URGENCY_COLOUR } from './map_symbols.js';
import { inHealthRegion } from './session.js';

const FAINT = 0.15;
const DASH = '3 2';

/** The layer: `draw(board)` replaces what it shows with ``board`` (null: nothing) and
 * returns how many incidents and units it drew; `again()` draws the same board for
 * another health region shown. `clear` is called by the map's box. */
export function pastLayer(map, renderer, showTip, hideTip, clear) {
  const group = L.featureGroup().addTo(map);
  const texts = new Map(); // marker -> its tooltip lines
  group.on('mouseover', (e) => showTip(e, tipHtml(texts.get(e.layer) || [])));
  group.on('mouseout', hideTip);
  const box = L.control({ position: 'topright' });
  let label = null;
  box.onAdd = () => {
    const close = h('button', { type: 'button', class: 'small secondary', dataset: { action: 'clear-past' } }, t('past.clear'));
    close.addEventListener('click', () => {
      clear();
      map.getContainer().focus(); // the button is gone: the keyboard stays on the map
    });
    label = h('span', {});
    const el = h('div', { class: 'past-box', role: 'status' }, label, ' ', close);
    L.DomEvent.disableClickPropagation(el);
    return el;
  };

  let last = null;

  function draw(board) {
    last = board;
    group.clearLayers();
    texts.clear();
    if (!board) {
      box.remove();
      return { incidents: 0, units: 0 };
    }
    let incidents = 0;
    let units = 0;
    const when = dateTime(board.at);
    for (const inc of board.incidents || []) {
      const pos = inc.position;
      if (!pos || (!pos.lat && !pos.lon) || !inHealthRegion(inc.region)) continue;
      const colour = URGENCY_COLOUR[inc.urgency] || URGENCY_COLOUR.URGENCY_UNSPECIFIED;
      const marker = L.circleMarker([pos.lat, pos.lon], {
        renderer, radius: 10, color: colour, weight: 2, dashArray: DASH, fillColor: colour, fillOpacity: FAINT,
        bubblingMouseEvents: false,
      });
      const urgency = inc.urgency && inc.urgency !== 'URGENCY_UNSPECIFIED' ? en(inc.urgency) : t('map.untriaged');
      texts.set(marker, [t('past.tip', { at: when }), `${inc.id} · ${urgency} · ${en(inc.status)}`, inc.address].filter(Boolean));
      group.addLayer(marker);
      marker.bringToBack();
      incidents += 1;
    }
    for (const u of board.units || []) {
      const pos = u.position;
      if (!pos || (!pos.lat && !pos.lon) || !inHealthRegion(u.region)) continue;
      const symbol = UNIT_KIND_SYMBOL[u.kind] || UNIT_KIND_SYMBOL.UNIT_KIND_UNSPECIFIED;
      const colour = UNIT_STATUS_COLOUR[u.status] || UNIT_STATUS_COLOUR.UNIT_STATUS_UNSPECIFIED;
      const marker = new SymbolMarker([pos.lat, pos.lon], {
        renderer, radius: 13, shape: symbol.shape, color: colour, weight: 2, dashArray: DASH,
        fillColor: colour, fillOpacity: FAINT, bubblingMouseEvents: false,
      });
      texts.set(marker, [t('past.tip', { at: when }), `${u.call_sign || u.id} · ${en(u.status)}`, u.incident_id].filter(Boolean));
      group.addLayer(marker);
      marker.bringToBack();
      units += 1;
    }
    box.addTo(map);
    label.textContent = t('past.showing', { at: when, incidents, units });
    return { incidents, units };
  }

  return { draw, again: () => draw(last) };
}
