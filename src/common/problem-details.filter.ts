import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { titleOf } from './api-errors.decorator.js';
import { databaseOutage } from './database-errors.js';
import {
  COMMON_ERRORS,
  DatabaseUnavailableError,
  DomainError,
  type ErrorDefinition,
  type FieldError,
  STATUS_BY_KIND,
} from './domain-error.js';
import { currentRequestId } from './request-context.js';

/** HTTP-level failures Nest raises itself (unknown route, body too large...), mapped onto the common catalog. */
const CODE_BY_STATUS: Record<number, ErrorDefinition> = {
  400: COMMON_ERRORS.BAD_REQUEST,
  401: COMMON_ERRORS.UNAUTHENTICATED,
  403: COMMON_ERRORS.FORBIDDEN,
  404: COMMON_ERRORS.NOT_FOUND,
  405: COMMON_ERRORS.METHOD_NOT_ALLOWED,
  413: COMMON_ERRORS.PAYLOAD_TOO_LARGE,
  415: COMMON_ERRORS.UNSUPPORTED_MEDIA_TYPE,
  429: COMMON_ERRORS.RATE_LIMITED,
};

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  requestId?: string | null;
  errors?: FieldError[];
  [extension: string]: unknown;
}

export function problemTypeUri(code: string): string {
  return `urn:problem-type:${code.toLowerCase().replace(/_/g, '-')}`;
}

/**
 * What a filter should answer for `error`: a database outage (down, unreachable, out of connections, a statement
 * past `statement_timeout`) becomes DATABASE_UNAVAILABLE, a 503 a client can retry; anything else is itself.
 */
export function knownError(error: unknown): unknown {
  const outage = error instanceof DomainError ? undefined : databaseOutage(error);
  return outage ? new DatabaseUnavailableError(outage) : error;
}

/** Sets `Retry-After` when the problem says when to retry. */
export function setRetryAfter(response: Response, problem: Record<string, unknown>): void {
  if (typeof problem.retryAfterSeconds === 'number')
    response.setHeader('Retry-After', String(problem.retryAfterSeconds));
}

/** Converts anything thrown into an RFC 9457 `application/problem+json` answer with a stable `code`. */
export function toProblem(thrown: unknown): ProblemDocument {
  const error = knownError(thrown);
  if (error instanceof DomainError) {
    const status = STATUS_BY_KIND[error.kind];
    return {
      ...error.extensions,
      type: problemTypeUri(error.code),
      title: titleOf(status),
      status,
      detail: error.message,
      code: error.code,
      ...(error.errors ? { errors: error.errors } : {}),
    };
  }
  // Express' body parser rejects malformed JSON with a SyntaxError, which Nest wraps in a 400.
  if (error instanceof HttpException && error.cause instanceof SyntaxError && error.getStatus() === 400)
    return problemOf(COMMON_ERRORS.MALFORMED_JSON, 400, COMMON_ERRORS.MALFORMED_JSON.description);
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const definition =
      CODE_BY_STATUS[status] ?? (status >= 500 ? COMMON_ERRORS.INTERNAL_ERROR : COMMON_ERRORS.BAD_REQUEST);
    const detail = status === 404 || status === 429 ? definition.description : error.message;
    return problemOf(definition, status, detail);
  }
  return problemOf(COMMON_ERRORS.INTERNAL_ERROR, 500, COMMON_ERRORS.INTERNAL_ERROR.description);
}

function problemOf(definition: ErrorDefinition, status: number, detail: string): ProblemDocument {
  return {
    type: problemTypeUri(definition.code),
    title: titleOf(status),
    status,
    detail,
    code: definition.code,
  };
}

@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(thrown: unknown, host: ArgumentsHost): void {
    const error = knownError(thrown);
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const problem = toProblem(error);
    problem.instance = request.path;
    problem.requestId = currentRequestId();
    logServerFailure(this.logger, error, problem.status);
    if (response.headersSent) return;
    setRetryAfter(response, problem);
    response.status(problem.status).type('application/problem+json').json(problem);
  }
}

/**
 * Logs a failure answered with `status`, if it is the server's (5xx): an expected unavailability (a dependency
 * down, a domain error) as one line with its reason, since a stack trace per request would only repeat; anything
 * else as the error itself with its stack (never the request body or headers, which can carry tokens).
 */
export function logServerFailure(logger: Logger, error: unknown, status: number): void {
  if (status < 500) return;
  const requestId = currentRequestId();
  if (error instanceof DomainError) {
    const message = error instanceof DatabaseUnavailableError ? error.reason : error.message;
    logger.warn({ message, code: error.code, requestId });
  } else {
    const described =
      error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ''}` : String(error);
    logger.error({ message: 'unhandled error', requestId, error: described });
  }
}
