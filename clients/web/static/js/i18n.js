// Bokmål by default, English selectable; the choice is kept in localStorage. Switching
// reloads the page: the live stream starts again with a snapshot, simpler and safer than
// re-rendering every panel in place.
const LANGS = ['nb', 'en'];
const KEY = 'amk.lang';
let lang = 'nb';
let dict = {};

export async function loadLanguage() {
  const stored = localStorage.getItem(KEY);
  lang = LANGS.includes(stored) ? stored : 'nb';
  const res = await fetch(`/static/i18n/${lang}.json`);
  dict = await res.json();
  document.documentElement.lang = lang;
}

/** The text for `key`, with {name} placeholders filled from `vars`; the key if missing. */
export function t(key, vars) {
  let text = dict[key];
  if (text === undefined) text = key;
  if (vars) text = text.replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? ''));
  return text;
}

/** A number with `digits` decimals as the desk's language writes it: 13,1 or 13.1. */
export function num(value, digits = 1) {
  return Number(value || 0).toLocaleString(lang === 'nb' ? 'nb-NO' : 'en-GB', {
    minimumFractionDigits: digits, maximumFractionDigits: digits, useGrouping: false,
  });
}

/** The display name of an enum value by its proto name ("URGENCY_AKUTT" -> "Akutt"). */
export function en(value) {
  return t(`enum.${value}`);
}

export function language() {
  return lang;
}

export function setLanguage(next) {
  if (!LANGS.includes(next) || next === lang) return;
  localStorage.setItem(KEY, next);
  location.reload();
}

export const languages = LANGS;
