// The call-taker's keyboard (docs/web-console.md): Alt+A answer the next call, Alt+N new
// incident, Alt+T triage, Alt+R recommendations, Alt+1..9 assign the n-th, Esc closes a
// form, ? lists them. Alt combinations are taken by e.code, so they work whatever the
// keyboard layout makes of Alt+letter.
import { h } from './dom.js';
import { clearErrors } from './forms.js';
import { t } from './i18n.js';
import { emit } from './state.js';

export const SHORTCUTS = [
  ['Alt+A', 'keys.answer'],
  ['Alt+N', 'keys.new'],
  ['Alt+T', 'keys.triage'],
  ['Alt+R', 'keys.recommend'],
  ['Alt+1 … Alt+9', 'keys.assign'],
  ['Esc', 'keys.escape'],
  ['?', 'keys.help'],
];

const typing = (el) => el && (el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName));

export function helpDialog() {
  return h('dialog', { id: 'help', 'aria-labelledby': 'help-title' },
    h('h2', { id: 'help-title' }, t('keys.title')),
    h('table', { class: 'shortcuts' },
      h('tbody', {}, SHORTCUTS.map(([key, text]) => h('tr', {}, h('th', { scope: 'row' }, h('kbd', {}, key)), h('td', {}, t(text)))))),
    h('form', { method: 'dialog' }, h('button', { type: 'submit', class: 'secondary' }, t('keys.close'))));
}

export function installShortcuts(dialog) {
  document.addEventListener('keydown', (e) => {
    if (e.altKey && !e.ctrlKey && !e.metaKey) {
      const digit = /^Digit([1-9])$/.exec(e.code);
      if (e.code === 'KeyA') document.querySelector('button[data-action=AnswerNextCall]')?.click();
      else if (e.code === 'KeyN') emit('shortcut-new-incident');
      else if (e.code === 'KeyT') emit('shortcut-triage');
      else if (e.code === 'KeyR') emit('shortcut-recommend');
      else if (digit) emit('shortcut-assign', Number(digit[1]));
      else return;
      e.preventDefault();
      return;
    }
    if (e.key === 'Escape') {
      if (dialog.open) return; // the dialog closes itself on Esc
      const form = e.target.closest?.('form[data-escape]');
      if (form) {
        form.reset();
        clearErrors(form);
        e.target.blur();
        e.preventDefault();
      }
      return;
    }
    if (e.key === '?' && !typing(e.target)) {
      e.preventDefault();
      if (dialog.open) dialog.close();
      else dialog.showModal();
    }
  });
}
