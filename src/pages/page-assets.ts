/**
 * The pages' only script and style sheet, served as same-origin files (the CSP allows no inline script or
 * style). The script builds every piece of text with `textContent`, never markup, so names coming from the
 * API cannot inject anything.
 */
export const PAGES_SCRIPT = `'use strict';
(function () {
  var status = document.getElementById('page-status');
  function say(text) {
    if (status) status.textContent = text;
  }
  async function problemText(response) {
    try {
      var problem = await response.json();
      return problem.detail || problem.title || 'HTTP ' + response.status;
    } catch (error) {
      return 'HTTP ' + response.status;
    }
  }
  function post(path) {
    return fetch(path, { method: 'POST', credentials: 'same-origin', headers: { Accept: 'application/json' } });
  }

  var signOut = document.getElementById('sign-out');
  if (signOut)
    signOut.addEventListener('click', async function () {
      signOut.disabled = true;
      var response = await post('/auth/logout');
      if (response.ok || response.status === 401) return location.assign('/sign-in');
      signOut.disabled = false;
      say(await problemText(response));
    });

  var list = document.getElementById('invitations');
  if (list) void loadInvitations(list);

  async function loadInvitations(list) {
    var response = await fetch(list.dataset.source, {
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
    });
    // The problem's detail says what to do (sign in again); the page links there.
    if (!response.ok) return say(await problemText(response));
    var choice = await response.json();
    if (!choice.invitations.length) return say('No invitation is pending any more. Sign in again.');
    say('');
    choice.invitations.forEach(function (invitation) {
      var item = document.createElement('li');
      var name = document.createElement('strong');
      name.textContent = invitation.organizationName;
      var button = document.createElement('button');
      button.type = 'button';
      button.textContent = 'Join';
      button.addEventListener('click', function () {
        void accept(invitation.id);
      });
      item.append(name, document.createTextNode(' as ' + invitation.role + ' '), button);
      list.append(item);
    });
  }

  function setButtons(disabled) {
    list.querySelectorAll('button').forEach(function (button) {
      button.disabled = disabled;
    });
  }

  async function accept(id) {
    setButtons(true);
    say('Signing you in…');
    var response = await post('/auth/invitations/' + encodeURIComponent(id) + '/accept');
    if (response.ok) return location.assign((await response.json()).redirectTo);
    setButtons(false);
    say(await problemText(response));
  }
})();
`;

export const PAGES_STYLE = `body { font: 16px/1.5 system-ui, sans-serif; margin: 0; color: #1b1b1b; background: #f6f7f9; }
main { max-width: 42rem; margin: 3rem auto; padding: 2rem; background: #fff; border-radius: 8px; }
h1 { font-size: 1.5rem; margin-top: 0; }
h2 { font-size: 1.1rem; margin-top: 2rem; }
nav { margin-bottom: 1.5rem; font-size: 0.9rem; }
.message { padding: 0.75rem 1rem; background: #f0f4ff; border-left: 4px solid #3b63d1; }
.reason { padding: 0.75rem 1rem; background: #fff8e6; border-left: 4px solid #d19a3b; }
.button, button { display: inline-block; padding: 0.5rem 1rem; border: 0; border-radius: 4px; background: #3b63d1;
  color: #fff; text-decoration: none; font: inherit; cursor: pointer; }
button:disabled { opacity: 0.5; }
dl.connection { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; }
dt { font-weight: 600; }
dd { margin: 0; }
ul.invitations { list-style: none; padding: 0; }
ul.invitations li { padding: 0.5rem 0; }
`;
