/**
 * What went wrong, in terms a client can act on. Each module declares its codes once, as a closed catalog
 * (`defineErrors`); services throw `DomainError`s built from those definitions (never HTTP exceptions), so the HTTP
 * layer, the CLI and background jobs share one code path, and the problem-details filter maps `kind` to a status
 * code exactly once.
 */
export type ErrorKind =
  | 'bad_request'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'unsupported_media_type'
  | 'unprocessable'
  | 'rate_limited'
  | 'unavailable'
  | 'internal'
  | 'method_not_allowed'
  | 'payload_too_large'
  | 'unsupported_media_type';

export const STATUS_BY_KIND: Record<ErrorKind, number> = {
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unprocessable: 422,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
  method_not_allowed: 405,
  payload_too_large: 413,
  unsupported_media_type: 415,
};

/** One entry of a module's error catalog. */
export interface ErrorDefinition<Code extends string = string> {
  readonly code: Code;
  readonly kind: ErrorKind;
  /** What it means and what to do about it: the documented meaning, and the default `detail`. */
  readonly description: string;
}

type CatalogInput = Record<string, { kind: ErrorKind; description: string }>;
export type ErrorCatalog<T extends CatalogInput> = {
  readonly [Code in keyof T & string]: ErrorDefinition<Code> & { readonly kind: T[Code]['kind'] };
};

const registered = new Map<string, ErrorDefinition>();

/**
 * Declares a module's error codes. Codes are unique across the service (a second definition of a code throws at
 * start-up) and every definition is registered, so the documentation and its tests can list them all.
 */
export function defineErrors<const T extends CatalogInput>(entries: T): ErrorCatalog<T> {
  const catalog: Record<string, ErrorDefinition> = {};
  for (const [code, entry] of Object.entries(entries)) {
    if (!/^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/.test(code))
      throw new Error(`error code ${code} is not UPPER_SNAKE_CASE`);
    const existing = registered.get(code);
    if (existing && (existing.kind !== entry.kind || existing.description !== entry.description))
      throw new Error(`error code ${code} is defined twice`);
    const definition = Object.freeze({ code, kind: entry.kind, description: entry.description });
    registered.set(code, definition);
    catalog[code] = definition;
  }
  return Object.freeze(catalog) as ErrorCatalog<T>;
}

/** Every problem code declared so far (each module's catalog registers itself when its `*.errors.ts` loads). */
export function registeredErrors(): ErrorDefinition[] {
  return [...registered.values()];
}

/**
 * Failures that never become a problem document: they are rendered into a browser redirect (`?error=<code>`) or
 * onto a run record. Each such catalog names its channel; codes are unique within it.
 */
export type CodeChannel = 'sign_in_redirect' | 'connect_redirect' | 'assignment_redirect' | 'sync_run';
const channels = new Map<CodeChannel, Map<string, string>>();

/** Declares a closed catalog of non-HTTP failure codes (code → what it means and what to do). */
export function defineCodes<const T extends Record<string, string>>(channel: CodeChannel, entries: T): T {
  const codes = channels.get(channel) ?? new Map<string, string>();
  for (const [code, description] of Object.entries(entries)) {
    if (codes.has(code) && codes.get(code) !== description)
      throw new Error(`code ${code} is defined twice in ${channel}`);
    codes.set(code, description);
  }
  channels.set(channel, codes);
  return Object.freeze(entries);
}

/** The non-HTTP failure codes declared so far, by channel. */
export function registeredCodes(): { channel: CodeChannel; code: string; description: string }[] {
  return [...channels].flatMap(([channel, codes]) =>
    [...codes].map(([code, description]) => ({ channel, code, description })),
  );
}

export interface FieldError {
  field: string;
  message: string;
}

export class DomainError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly kind: ErrorKind;

  constructor(
    readonly definition: ErrorDefinition<Code>,
    message: string = definition.description,
    /** Extra, safe-to-show members of the problem document (e.g. `requiredPlan`). */
    readonly extensions: Record<string, unknown> = {},
    readonly errors?: FieldError[],
  ) {
    super(message);
    this.name = 'DomainError';
    this.code = definition.code;
    this.kind = definition.kind;
  }
}

/** An error class built from one definition, which `@ApiErrors(...)` reads to document the response. */
export interface DocumentedError {
  readonly definition: ErrorDefinition;
}

/** The codes of the framework glue: authentication, guards, validation, paging and HTTP-level failures. */
export const COMMON_ERRORS = defineErrors({
  VALIDATION_FAILED: {
    kind: 'bad_request',
    description: 'The request is not valid; `errors[]` names each offending field.',
  },
  MALFORMED_JSON: { kind: 'bad_request', description: 'The request body is not valid JSON.' },
  INVALID_CURSOR: { kind: 'bad_request', description: 'The cursor is not one this API issued.' },
  BAD_REQUEST: { kind: 'bad_request', description: 'The request cannot be processed as sent.' },
  UNAUTHENTICATED: {
    kind: 'unauthenticated',
    description: 'Sign in first: no valid credentials were presented.',
  },
  INSUFFICIENT_ROLE: {
    kind: 'forbidden',
    description: 'Your role in the organization does not allow this action (`requiredRoles` lists who may).',
  },
  PLAN_REQUIRED: {
    kind: 'forbidden',
    description: 'This feature needs another plan (`requiredPlan`, with the `currentPlan`).',
  },
  FORBIDDEN: { kind: 'forbidden', description: 'This request is not allowed.' },
  ORIGIN_NOT_ALLOWED: {
    kind: 'forbidden',
    description:
      'A write authenticated by the session cookie must come from the application’s own origin; integrations ' +
      'use a Bearer token instead.',
  },
  NOT_FOUND: { kind: 'not_found', description: 'No such route.' },
  METHOD_NOT_ALLOWED: { kind: 'method_not_allowed', description: 'This route does not accept that method.' },
  PAYLOAD_TOO_LARGE: { kind: 'payload_too_large', description: 'The request body is too large.' },
  UNSUPPORTED_MEDIA_TYPE: {
    kind: 'unsupported_media_type',
    description: 'Send the request body as application/json.',
  },
  RATE_LIMITED: { kind: 'rate_limited', description: 'Too many requests; slow down and retry later.' },
  INSUFFICIENT_SCOPE: {
    kind: 'forbidden',
    description:
      'The API key lacks a scope this operation needs (`requiredScopes`); create a key with that scope.',
  },
  API_KEY_NOT_ACCEPTED: {
    kind: 'forbidden',
    description:
      'This operation accepts a signed-in person’s session only, never an API key (browser flows, API key ' +
      'management and owner-only operations).',
  },
  DATABASE_UNAVAILABLE: {
    kind: 'unavailable',
    description:
      'The database could not be reached or did not answer in time (`DATABASE_STATEMENT_TIMEOUT_MS`); retry ' +
      'after `Retry-After` seconds.',
  },
  INTERNAL_ERROR: {
    kind: 'internal',
    description: 'An unexpected error occurred. Quote the request id when reporting it.',
  },
});

/** How long a client should wait before retrying a request the database could not serve. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/** The database is down, unreachable, out of connections or too slow: an outage, answered as 503. */
export class DatabaseUnavailableError extends DomainError {
  static readonly definition = COMMON_ERRORS.DATABASE_UNAVAILABLE;
  /** @param reason the driver's message, for the log only (never the statement or its values). */
  constructor(readonly reason: string) {
    super(COMMON_ERRORS.DATABASE_UNAVAILABLE, COMMON_ERRORS.DATABASE_UNAVAILABLE.description, {
      retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS,
    });
  }
}

export class ValidationFailedError extends DomainError {
  static readonly definition = COMMON_ERRORS.VALIDATION_FAILED;
  constructor(errors: FieldError[], message = 'The request is not valid.') {
    super(COMMON_ERRORS.VALIDATION_FAILED, message, {}, errors);
  }
}
