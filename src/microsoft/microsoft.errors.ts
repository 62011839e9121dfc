import { DomainError } from '../common/domain-error.js';

/**
 * Microsoft refused or failed a token request; `microsoftError` is its OAuth `error` value (e.g.
 * `invalid_grant`). Microsoft's `description` (AADSTS text with timestamps, trace and correlation ids) is
 * for logs only: the client-facing message carries the code alone.
 */
export class MicrosoftTokenError extends DomainError {
  constructor(
    readonly microsoftError: string,
    readonly description: string,
  ) {
    super('MICROSOFT_TOKEN_ERROR', 'unavailable', `Microsoft refused the token request (${microsoftError}).`);
  }
}

/** An ID token failed validation; `reason` is for logs, never for the browser. */
export class InvalidIdTokenError extends DomainError {
  constructor(readonly reason: string) {
    super('INVALID_ID_TOKEN', 'unauthenticated', 'The ID token from Microsoft is not valid.');
  }
}

/** A Graph call failed; `status` 0 means it never got an answer (network, timeout). */
export class GraphRequestError extends DomainError {
  constructor(
    readonly status: number,
    readonly graphCode: string,
    /** Graph's own message, for logs only. */
    readonly graphMessage: string,
  ) {
    super(
      'GRAPH_REQUEST_FAILED',
      'unavailable',
      `Microsoft Graph request failed (${status || 'no response'} ${graphCode}).`,
      {
        graphStatus: status,
        graphCode,
      },
    );
  }
}
