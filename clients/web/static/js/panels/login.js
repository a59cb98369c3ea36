// The login page: the person's OpenID Connect bearer token (HelseID in production, `amk
// login` in development), and, only when the server has it on, the development form.
import { post } from '../api.js';
import { h } from '../dom.js';
import { errorText } from '../forms.js';
import { t } from '../i18n.js';

const ROLES = ['call-taker', 'dispatcher', 'supervisor', 'crew', 'engineer', 'auditor'];

/** Render the login page into `root`; `done(me)` after a successful login. */
export function renderLogin(root, { devLogin = false, centres = [], done }) {
  const token = h('input', { id: 'login-token', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true });
  const error = h('div', { id: 'login-error', class: 'form-error', role: 'alert', 'aria-live': 'assertive' });
  const submit = h('button', { id: 'login-submit', type: 'submit' }, t('login.submit'));
  const form = h('form', { class: 'login-form', novalidate: true },
    h('label', { for: 'login-token' }, t('login.token')),
    token,
    h('small', { class: 'hint' }, t('login.token_hint')),
    error,
    submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    await login({ token: token.value.trim() }, submit, error, done);
  });

  const parts = [h('h1', {}, t('app.title')), h('p', { class: 'lead' }, t('login.lead')), form];
  if (devLogin) parts.push(devForm(centres, error, done));
  root.replaceChildren(h('main', { class: 'login' }, ...parts));
  token.focus();
}

async function login(body, button, error, done) {
  error.textContent = '';
  button.disabled = true;
  try {
    done(await post('/api/login', body));
  } catch (err) {
    error.textContent = err.code ? errorText(err) : err.message || t('error.network');
  } finally {
    button.disabled = false;
  }
}

// `amk up --web-dev-login` only: anyone who reaches the port may choose a role.
function devForm(centres, error, done) {
  const user = h('input', { id: 'dev-user', value: 'dev', autocomplete: 'off' });
  const role = h('select', { id: 'dev-role' }, ROLES.map((r) => h('option', { value: r }, r)));
  const centre = centres.length
    ? h('select', { id: 'dev-centre' }, centres.map((c) => h('option', { value: c.id }, c.name)))
    : h('input', { id: 'dev-centre', value: 'oslo' });
  const submit = h('button', { type: 'submit', id: 'dev-login-submit' }, t('login.dev_submit'));
  const form = h('form', { class: 'login-form dev' },
    h('h2', {}, t('login.dev_title')),
    h('p', { class: 'warning' }, t('login.dev_warning')),
    h('label', { for: 'dev-user' }, t('login.user')), user,
    h('label', { for: 'dev-role' }, t('login.role')), role,
    h('label', { for: 'dev-centre' }, t('login.centre')), centre,
    submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    await login({ user: user.value.trim(), role: role.value, centre: centre.value }, submit, error, done);
  });
  return form;
}
