import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { DomainError, type ErrorKind, type FieldError } from './domain-error.js';
import { currentRequestId } from './request-context.js';

const STATUS_BY_KIND: Record<ErrorKind, number> = {
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unsupported_media_type: 415,
  unprocessable: 422,
  rate_limited: 429,
  unavailable: 503,
};

const CODE_BY_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
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
      title: titleFor(status),
      status,
      detail: error.message,
      code: error.code,
      ...(error.errors ? { errors: error.errors } : {}),
    };
  }
  // Express' body parser rejects malformed JSON with a SyntaxError, which Nest wraps in a 400.
  if (error instanceof HttpException && error.cause instanceof SyntaxError && error.getStatus() === 400) {
    const code = 'MALFORMED_JSON';
    return {
      type: problemTypeUri(code),
      title: titleFor(400),
      status: 400,
      detail: 'The request body is not valid JSON.',
      code,
    };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const code = CODE_BY_STATUS[status] ?? (status >= 500 ? 'INTERNAL_ERROR' : 'HTTP_ERROR');
    const response = error.getResponse();
    const detail =
      status === 404 && typeof response === 'object'
        ? 'No such route.'
        : status === 429
          ? 'Too many requests; slow down and retry later.'
          : error.message;
    return { type: problemTypeUri(code), title: titleFor(status), status, detail, code };
  }
  return {
    type: problemTypeUri('INTERNAL_ERROR'),
    title: titleFor(500),
    status: 500,
    detail: 'An unexpected error occurred. Quote the request id when reporting it.',
    code: 'INTERNAL_ERROR',
  };
}

function titleFor(status: number): string {
  const name = HttpStatus[status];
  return name ? name.charAt(0) + name.slice(1).toLowerCase().replace(/_/g, ' ') : 'Error';
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
    if (problem.status >= 500) {
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
