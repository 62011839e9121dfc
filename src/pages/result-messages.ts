import { type CodeChannel, registeredCodes } from '../common/domain-error.js';

/**
 * What a result page says about a code: the text of the catalog that declared it (sign-in, connect, tenant
 * assignment), so a code added to its module's catalog is explained here without a change to the pages.
 */
export function messageOf(channel: CodeChannel, code: string | undefined): string | undefined {
  if (!code) return undefined;
  return registeredCodes().find((entry) => entry.channel === channel && entry.code === code)?.description;
}

/** Why an account is `pending`, as `/sign-in?error=account_pending&reason=<reason>` names it. */
export const PENDING_REASONS: Record<string, string> = {
  awaiting_approval:
    'An administrator of your organization must activate your account. Please wait for activation, then sign in again.',
  awaiting_seat:
    'Your organization has no free seat right now. You are in the queue and your account is activated as soon as a seat frees; then sign in again.',
};

/**
 * Codes that reach the result pages without being part of a flow's catalog: the sign-in limits redirect a
 * spent budget to the connect page with `code=rate_limited`.
 */
export const CONNECT_PAGE_EXTRA_CODES: Record<string, string> = {
  rate_limited:
    'Too many failed or forged connection attempts from this network: wait a few minutes (`retryAfter`, when present, gives the seconds) and try again.',
};
