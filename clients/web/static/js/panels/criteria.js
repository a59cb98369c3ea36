// A searchable list of the triage criteria (GET /api/reference): type words of the
// complaint, a code or a chapter; pick one with a click or Enter. The chosen code goes
// into the form's criteria_code input.
import { h } from '../dom.js';
import { en, language, t } from '../i18n.js';
import { URGENCY_COLOUR } from '../map_symbols.js';
import { session } from '../session.js';

const MAX_SHOWN = 60;

/** The urgency of a criterion as an enum name, whatever the reference spells it. */
export function urgencyOf(criterion) {
  const u = String(criterion.urgency || '').toUpperCase();
  if (u.startsWith('URGENCY_')) return u;
  return { A: 'URGENCY_AKUTT', H: 'URGENCY_HASTER', V: 'URGENCY_VANLIG' }[u[0]] || 'URGENCY_UNSPECIFIED';
}

// Words that say a complaint is absent when they come just before it ("ingen
// brystsmerter", "no chest pain").
const NEGATED = /(?:^|[\s,(])(?:ingen|ikke|uten|no|not|without)\s+$/;

/** Whether `text` has `word` somewhere no negation stands just before it. */
function saysPlainly(text, word) {
  for (let i = text.indexOf(word); i >= 0; i = text.indexOf(word, i + 1)) {
    if (!NEGATED.test(text.slice(Math.max(0, i - 12), i))) return true;
  }
  return false;
}

/** How well criterion `c` answers the words typed, most first. The index is used by
 * the complaint's chapter first, so a word in the chapter's title counts most; then a
 * word its text says plainly; a criterion that mentions the complaint only as absent
 * ("Besvimte én gang ..., ingen brystsmerter") counts least. Seen: typing
 * "brystsmerter" listed that vanlig criterion above the akutt chest pain ones, and the
 * first line is the one a tired hand clicks. */
function rank(c, words) {
  let score = 0;
  for (const w of words) {
    if (c.chapterWords.includes(w)) score += 4;
    if (c.texts.some((x) => saysPlainly(x, w))) score += 2;
    if (c.code.toLowerCase().startsWith(w)) score += 1;
  }
  return score;
}

/** {element, search, code}: `code` is the input named criteria_code. */
export function criteriaPicker(code) {
  const search = h('input', {
    type: 'search', class: 'criteria-search', autocomplete: 'off', role: 'combobox',
    'aria-expanded': 'true', 'aria-keyshortcuts': 'Alt+T', placeholder: t('triage.search_placeholder'),
  });
  search.id = `criteria-search-${Math.random().toString(36).slice(2, 8)}`;
  const list = h('ul', { class: 'criteria-list', role: 'listbox', id: `${search.id}-list` });
  search.setAttribute('aria-controls', list.id);
  // Shown in the console's language; found by the words of either (a Norwegian
  // dispatcher may think of the English term, and the other way round).
  const nb = language() === 'nb';
  const chapters = new Map((session.reference.chapters || []).map((c) => [Number(c.number), c]));
  const all = (session.reference.criteria || []).map((c) => {
    const ch = chapters.get(Number(c.chapter)) || {};
    return {
      ...c,
      shown: (nb ? c.text_no : c.text) || c.text || c.text_no || '',
      urgencyEnum: urgencyOf(c),
      haystack: [c.code, c.text_no, c.text, ch.name, ch.name_en].filter(Boolean).join(' ').toLowerCase(),
      chapterWords: [ch.name, ch.name_en].filter(Boolean).join(' ').toLowerCase(),
      texts: [c.text_no, c.text].filter(Boolean).map((x) => x.toLowerCase()),
    };
  });

  const choose = (c) => {
    code.value = c.code;
    for (const li of list.querySelectorAll('[aria-selected=true]')) li.setAttribute('aria-selected', 'false');
    list.querySelector(`[data-code="${CSS.escape(c.code)}"]`)?.setAttribute('aria-selected', 'true');
  };

  const render = () => {
    const words = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const found = all.filter((c) => words.every((w) => c.haystack.includes(w)))
      .map((c) => [rank(c, words), c])
      .sort((a, b) => b[0] - a[0]) // stable: ties keep the table's order
      .map(([, c]) => c);
    list.replaceChildren(...found.slice(0, MAX_SHOWN).map((c) => {
      const li = h('li', { role: 'option', tabindex: '-1', 'aria-selected': String(code.value === c.code), dataset: { code: c.code } },
        h('span', { class: 'dot', style: `background:${URGENCY_COLOUR[c.urgencyEnum]}` }),
        h('span', { class: 'mono' }, c.code), ' ',
        h('span', { class: 'urg' }, en(c.urgencyEnum)), ' ',
        h('span', { class: 'criterion-text' }, c.shown));
      li.addEventListener('click', () => choose(c));
      return li;
    }));
    if (found.length > MAX_SHOWN) list.append(h('li', { class: 'more' }, t('triage.more', { n: found.length - MAX_SHOWN })));
    if (!found.length) list.append(h('li', { class: 'more' }, t('triage.none')));
    return found;
  };
  let shown = [];
  const update = () => { shown = render().slice(0, MAX_SHOWN); };
  search.addEventListener('input', update);
  update();
  search.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault(); // Enter picks the chosen match (else the first); the submit button sends it
      const chosen = shown.find((c) => c.code === code.value);
      if (!chosen && shown[0]) choose(shown[0]);
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      // Through the matches shown, without leaving the field: H.11.01 is reachable by
      // keyboard without typing its code.
      e.preventDefault();
      if (!shown.length) return;
      const at = shown.findIndex((c) => c.code === code.value);
      const next = e.key === 'ArrowDown' ? Math.min(at + 1, shown.length - 1) : Math.max(at - 1, 0);
      choose(shown[next]);
      list.querySelector('[aria-selected=true]')?.scrollIntoView({ block: 'nearest' });
    }
  });
  const label = h('label', { for: search.id }, t('triage.search'));
  return { element: h('div', { class: 'criteria-picker' }, label, search, list), search };
}
