import { constantTimeEqual, randomToken, sha256 } from '../common/tokens.js';

/** What a binding we issued looks like (`randomToken`): anything else a browser sends is not one of ours. */
const BROWSER_BINDING = /^[\w-]{43}$/;

/**
 * A secret that ties a step of the sign-in to the browser that started it: sent as an HttpOnly cookie, kept
 * server-side only as its SHA-256 hash. Always server-issued, so a value planted in the browser is never
 * adopted. The redirect flows (the flow cookie) and the organization choice after a sign-in use it alike.
 */
export interface IssuedBrowserBinding {
  /** The cookie value; never stored. */
  value: string;
  /** What the server keeps to recognise it. */
  hash: string;
}

export function issueBrowserBinding(): IssuedBrowserBinding {
  const value = randomToken();
  return { value, hash: sha256(value) };
}

/** The hash to look a presented cookie up by, or null when it cannot be a binding we issued. */
export function browserBindingHash(presented: string | null | undefined): string | null {
  return presented && BROWSER_BINDING.test(presented) ? sha256(presented) : null;
}

/** Whether the browser presented the binding whose hash the server kept (constant-time). */
export function presentsBrowserBinding(keptHash: string, presented: string | null | undefined): boolean {
  const hash = browserBindingHash(presented);
  return hash !== null && constantTimeEqual(keptHash, hash);
}
