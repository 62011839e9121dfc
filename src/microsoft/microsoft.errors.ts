import { DomainError, defineErrors } from '../common/domain-error.js';

export const MICROSOFT_ERRORS = defineErrors({
  MICROSOFT_TOKEN_ERROR: {
    kind: 'unavailable',
    description: 'Microsoft refused or failed a token request; try again, or reconnect when it persists.',
  },
  GRAPH_REQUEST_FAILED: {
    kind: 'unavailable',
    description:
      'A Microsoft Graph request failed or timed out (`graphStatus`, `graphCode`); try again later.',
  },
});

/**
 * Microsoft refused or failed a token request; `microsoftError` is its OAuth `error` value (e.g.
 * `invalid_grant`). Microsoft's `description` (AADSTS text with timestamps, trace and correlation ids) is
 * for logs only: the client-facing message carries the code alone.
 */
export class MicrosoftTokenError extends DomainError {
  static readonly definition = MICROSOFT_ERRORS.MICROSOFT_TOKEN_ERROR;
  constructor(
    readonly microsoftError: string,
    readonly description: string,
  ) {
    super(MicrosoftTokenError.definition, `Microsoft refused the token request (${microsoftError}).`);
  }
}

/**
 * An ID token failed validation; `reason` is for logs, never for the browser. Not a problem: the redirect flows
 * catch it and render their own `invalid_id_token` code.
 */
export class InvalidIdTokenError extends Error {
  constructor(readonly reason: string) {
    super('The ID token from Microsoft is not valid.');
    this.name = 'InvalidIdTokenError';
  }
}

/** A Graph call failed; `status` 0 means it never got an answer (network, timeout). */
export class GraphRequestError extends DomainError {
  static readonly definition = MICROSOFT_ERRORS.GRAPH_REQUEST_FAILED;
  constructor(
    readonly status: number,
    readonly graphCode: string,
    /** Graph's own message, for logs only. */
    readonly graphMessage: string,
  ) {
    super(
      GraphRequestError.definition,
      `Microsoft Graph request failed (${status || 'no response'} ${graphCode}).`,
      {
        graphStatus: status,
        graphCode,
      },
    );
  }
}
