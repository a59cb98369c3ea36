// Forms that call one RPC each: form[data-form=<Method>], inputs named by the proto field
// (dotted when nested: position.lat), a submit button with data-action=<Method>. The
// browser does not validate (novalidate): the server's message is the one shown, next
// to the field it names (.field-error[data-field]) or in the form's .form-error.
import { rpc } from './api.js';
import { fill, h } from './dom.js';
import { t } from './i18n.js';

let nextId = 0;

/** A labelled input with its error slot. `input` gets name and id. */
export function field(name, label, input, hint = '') {
  input.name = name;
  if (!input.id) input.id = `f${++nextId}-${name.replace(/\W/g, '-')}`;
  const hintEl = hint ? h('small', { class: 'hint', id: `${input.id}-hint` }, hint) : null;
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' },
    h('label', { for: input.id }, label),
    input,
    hintEl,
    h('div', { class: 'field-error', dataset: { field: name }, 'aria-live': 'polite' }));
}

/** An error slot for a field with no input of its own (e.g. "position", "incident_id"). */
export function errorSlot(name) {
  return h('div', { class: 'field-error', dataset: { field: name }, 'aria-live': 'polite' });
}

export const input = (attrs = {}) => h('input', { type: 'text', autocomplete: 'off', ...attrs });
export const number = (attrs = {}) => h('input', { type: 'number', step: 'any', inputmode: 'decimal', ...attrs });
export const textarea = (attrs = {}) => h('textarea', { rows: 2, ...attrs });
export const hidden = (name, value = '') => h('input', { type: 'hidden', name, value });

/** A <select> of [value, label] pairs (or strings); `blank` adds an empty first choice. */
export function select(options, { blank = null, value = '' } = {}) {
  const el = h('select', {});
  if (blank !== null) el.append(h('option', { value: '' }, blank));
  for (const o of options) {
    const [v, label] = Array.isArray(o) ? o : [o, o];
    el.append(h('option', { value: v }, label));
  }
  if (value) el.value = value;
  return el;
}

/**
 * A form that calls `method`. `children` are its fields; `build(body, form)` may adjust
 * the collected body; `call(method, body)` replaces the plain rpc (break-glass sends a
 * field as a header); `done(answer, form)` runs on success. Returns the <form>.
 */
export function rpcForm(method, children, { submit, build = null, call = rpc, done = null, reset = false, extraClass = '' } = {}) {
  const button = h('button', { type: 'submit', dataset: { action: method } }, submit || t(`action.${method}`));
  const form = h('form', { dataset: { form: method }, novalidate: true, class: `rpc-form ${extraClass}` },
    ...children,
    h('div', { class: 'form-error', role: 'alert', 'aria-live': 'assertive' }),
    h('div', { class: 'form-actions' }, button));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    // A number the browser cannot read has an empty value, which collect() would leave
    // out as "not given": an age typed as "7e" must not become "unknown" without a word.
    const unreadable = [...form.elements].find((el) => el.name && !el.disabled && el.validity?.badInput);
    if (unreadable) {
      showError(form, { field: unreadable.name, message: t('form.unreadable') });
      return;
    }
    let body = collect(form);
    if (build) body = build(body, form);
    button.disabled = true;
    form.setAttribute('aria-busy', 'true');
    try {
      const answer = await call(method, body);
      if (reset) form.reset();
      if (done) done(answer, form);
    } catch (err) {
      showError(form, err);
    } finally {
      button.disabled = false;
      form.removeAttribute('aria-busy');
    }
  });
  return form;
}

/** A `call` for rpcForm whose answer goes to `out`: it empties `out` and marks `state`
 * (the element whose `data-state` the page's styles and tests read) `loading` while the
 * call runs and `error` if it fails; `done` sets what the answer made of it. */
export function callMarking(state, out) {
  return async (method, body) => {
    state.dataset.state = 'loading';
    fill(out);
    try {
      return await rpc(method, body);
    } catch (err) {
      state.dataset.state = 'error';
      throw err;
    }
  };
}

/** The form's named inputs as a proto JSON object: dotted names nest, empty is left out,
 * numbers are numbers, checkboxes are booleans. */
export function collect(form) {
  const body = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled || el.dataset.collect === 'no') continue;
    let value;
    if (el.type === 'checkbox') value = el.checked;
    else if (el.value === '') continue;
    else if (el.type === 'number' || el.dataset.type === 'number') value = Number(el.value);
    else value = el.value;
    const path = el.name.split('.');
    let target = body;
    for (const key of path.slice(0, -1)) target = target[key] ??= {};
    target[path.at(-1)] = value;
  }
  return body;
}

/** What the person at the desk reads for a failed call: what it means, in the console's
 * language (by its gRPC code), then the server's own message, which names the field and
 * the rule (in English: the gateway's messages are not translated), and the code itself
 * where no field shows where it belongs, for the on-call engineer. */
export function errorText(err, { withCode = true } = {}) {
  const detail = typeof err === 'string' ? err : err?.message || '';
  const code = err?.code && err.code !== 'UNKNOWN' ? err.code : '';
  const key = `error.code.${code || 'UNKNOWN'}`;
  if (!code) return detail || t(key);
  const head = t(key) === key ? '' : t(key); // a code with no text of ours: HTTP_502
  const text = [head, detail].filter(Boolean).join(': ');
  return withCode || !head ? `${text} (${code})` : text;
}

export function clearErrors(form) {
  for (const el of form.querySelectorAll('.field-error, .form-error')) el.textContent = '';
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

/** Show an ApiError: next to its field (or the nearest enclosing field: position.lat ->
 * position), else in the form's .form-error. */
export function showError(form, err) {
  let name = err.field || '';
  while (name) {
    const slot = form.querySelector(`.field-error[data-field="${CSS.escape(name)}"]`);
    if (slot) {
      slot.textContent = errorText(err, { withCode: false });
      const inputEl = form.querySelector(`[name="${CSS.escape(name)}"]`);
      if (inputEl) {
        inputEl.setAttribute('aria-invalid', 'true');
        inputEl.focus();
      }
      return;
    }
    name = name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : '';
  }
  const slot = form.querySelector('.form-error');
  slot.textContent = errorText(err);
}

/** Run an RPC from a plain button; its error goes to `errorEl`. */
export async function act(button, errorEl, run) {
  if (errorEl) errorEl.textContent = '';
  button.disabled = true;
  try {
    return await run();
  } catch (err) {
    if (errorEl) errorEl.textContent = errorText(err);
    return undefined;
  } finally {
    button.disabled = false;
  }
}
