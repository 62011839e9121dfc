import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { titleOf } from './api-errors.decorator.js';
import {
  COMMON_ERRORS,
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

/** Converts anything thrown into an RFC 9457 `application/problem+json` answer with a stable `code`. */
export function toProblem(error: unknown): ProblemDocument {
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

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const problem = toProblem(error);
    problem.instance = request.path;
    problem.requestId = currentRequestId();
    if (problem.status >= 500 && error instanceof DomainError) {
      // An expected unavailability (a dependency down): one line, no stack trace, which would only repeat.
      this.logger.warn({ message: problem.detail, code: problem.code, requestId: problem.requestId });
    } else if (problem.status >= 500) {
      // Log the error itself (never the request body or headers, which can carry tokens).
      this.logger.error({ message: 'unhandled error', requestId: problem.requestId, error: describe(error) });
    }
    if (response.headersSent) return;
    response.status(problem.status).type('application/problem+json').json(problem);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ''}` : String(error);
}
