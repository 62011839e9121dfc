import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  RequestMethod,
} from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService } from '@nestjs/core';
import type { Request, Response } from 'express';
import { COMMON_ERRORS, DomainError, STATUS_BY_KIND } from '../../common/domain-error.js';
import {
  knownError,
  logServerFailure,
  ProblemDetailsFilter,
  setRetryAfter,
} from '../../common/problem-details.filter.js';
import { ScimAccessService } from './scim-access.service.js';
import { SCIM_BASE_PATH, SCIM_MAX_PAYLOAD_BYTES, sendScimError, trackScimRequest } from './scim-edge.js';
import { scimLogState } from './scim-request-log.js';
import { ScimRequestLogService } from './scim-request-log.service.js';
import { ScimError, type ScimType } from '../protocol/index.js';

interface ScimRoute {
  method: string;
  pattern: RegExp;
}

/** What a failure says in the SCIM error schema. */
export interface ScimFailure {
  status: number;
  detail: string;
  scimType?: ScimType;
}

function isScimError(error: unknown): error is ScimError {
  // By shape as well as class: SCIM services throw the protocol library's ScimError.
  return (
    error instanceof ScimError ||
    (error instanceof Error &&
      error.name === 'ScimError' &&
      typeof (error as { status?: unknown }).status === 'number')
  );
}

/** The SCIM rendering of anything thrown while serving `/scim/v2` (never a problem document). */
export function toScimFailure(thrown: unknown): ScimFailure {
  const error = knownError(thrown);
  if (isScimError(error)) return { status: error.status, detail: error.message, scimType: error.scimType };
  if (error instanceof DomainError) {
    const status = STATUS_BY_KIND[error.kind];
    if (error.code === COMMON_ERRORS.VALIDATION_FAILED.code) {
      const fields = (error.errors ?? []).map((e) => `${e.field} ${e.message}`).join('; ');
      return {
        status,
        detail: fields ? `${error.message} ${fields}` : error.message,
        scimType: 'invalidValue',
      };
    }
    if (error.code === COMMON_ERRORS.MALFORMED_JSON.code)
      return { status, detail: error.message, scimType: 'invalidSyntax' };
    if (error.code === COMMON_ERRORS.UNAUTHENTICATED.code)
      return {
        status,
        detail: 'Present a valid SCIM token of the organization: Authorization: Bearer scim_…',
      };
    return { status, detail: error.message };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    if (status === 400 && error.cause instanceof SyntaxError)
      return { status, detail: 'The request body is not valid JSON.', scimType: 'invalidSyntax' };
    if (status === 404) return { status, detail: 'No such SCIM endpoint.' };
    if (status === 413)
      return { status, detail: `The request body exceeds the limit of ${SCIM_MAX_PAYLOAD_BYTES} bytes.` };
    if (status < 500) return { status, detail: error.message };
  }
  return { status: 500, detail: 'An unexpected error occurred. Quote the request id when reporting it.' };
}

/**
 * The exception filter of `/scim/v2`, global so that it also sees unknown routes and refused bodies. There it answers in the SCIM error schema
 * (`application/scim+json`, `status` as a string, `scimType` where RFC 7644 defines one), also for unknown routes
 * (404) and known paths asked with another method (405, with `Allow`); everywhere else it hands over to the
 * problem-details filter. Registered in the SCIM module, after the app module's own filter, so Nest (which tries
 * global filters last-registered first) asks it first; the SCIM e2e tests fail if that ever changes.
 */
@Catch()
@Injectable()
export class ScimExceptionFilter implements ExceptionFilter, OnApplicationBootstrap {
  private readonly logger = new Logger('Errors');
  private readonly problems = new ProblemDetailsFilter();
  private routes: ScimRoute[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly log: ScimRequestLogService,
    private readonly access: ScimAccessService,
  ) {}

  onApplicationBootstrap(): void {
    this.routes = this.discovery.getControllers().flatMap((wrapper) => {
      const controller = wrapper.metatype as (new (...args: unknown[]) => object) | null;
      if (!controller?.prototype) return [];
      const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
      if (!`/${base}`.replace(/\/+/g, '/').toLowerCase().startsWith(SCIM_BASE_PATH.toLowerCase())) return [];
      return Object.getOwnPropertyNames(controller.prototype).flatMap((name) => {
        const handler = (controller.prototype as Record<string, unknown>)[name];
        if (name === 'constructor' || typeof handler !== 'function') return [];
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (method === undefined) return [];
        const sub = String(Reflect.getMetadata(PATH_METADATA, handler) ?? '');
        const path = `/${[base, sub].filter((p) => p && p !== '/').join('/')}`.replace(/\/+/g, '/');
        const source = path
          .split('/')
          .map((segment) =>
            segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
          )
          .join('/');
        return [{ method: RequestMethod[method], pattern: new RegExp(`^${source}/?$`, 'i') }];
      });
    });
  }

  catch(thrown: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const path = request.path ?? '';
    if (!path.toLowerCase().startsWith(SCIM_BASE_PATH.toLowerCase()))
      return this.problems.catch(thrown, host);
    const error = knownError(thrown);
    // Nest's JSON parser runs before the edge: a body it refuses (413, malformed) arrives here first.
    if (!scimLogState(request))
      trackScimRequest(request, response, this.log, (secret) => this.access.identify(secret));
    let failure = toScimFailure(error);
    if (failure.status === 404 && error instanceof HttpException) {
      const allowed = this.routes.filter((r) => r.pattern.test(path)).map((r) => r.method);
      if (allowed.length) {
        response.setHeader('Allow', [...new Set(allowed)].join(', '));
        failure = {
          status: 405,
          detail: `${request.method} is not supported here; use ${allowed.join(' or ')}.`,
        };
      }
    }
    logServerFailure(this.logger, error, failure.status);
    if (response.headersSent) return;
    if (error instanceof DomainError) setRetryAfter(response, error.extensions);
    sendScimError(request, response, failure.status, failure.detail, failure.scimType);
  }
}
