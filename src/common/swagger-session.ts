/** Where Swagger UI loads the script below from (a file: the CSP allows no inline script). */
export const SWAGGER_SESSION_SCRIPT_PATH = '/docs/session-cookie.js';

/** What the curl snippets show for the cookie: its value is HttpOnly, so the page cannot know it. */
export const SESSION_COOKIE_PLACEHOLDER = 'PASTE_YOUR_SESSION_COOKIE';

/**
 * Swagger UI sends this browser's session cookie with every call (`withCredentials`), but on its own it shows
 * every operation unlocked and curl snippets without the cookie. When the browser is signed in, this marks the
 * cookie scheme authorized: the lock icons close and the snippets carry `Cookie: session=…` with a placeholder
 * for the value (HttpOnly: copy it from the browser's developer tools, or sign in to get a Bearer token).
 */
export const SWAGGER_SESSION_SCRIPT = `'use strict';
window.addEventListener('load', function () {
  fetch('/api/v1/me', { credentials: 'same-origin', headers: { Accept: 'application/json' } })
    .then(function (response) {
      if (response.ok && window.ui) window.ui.preauthorizeApiKey('session', '${SESSION_COOKIE_PLACEHOLDER}');
    })
    .catch(function () {});
});
`;
