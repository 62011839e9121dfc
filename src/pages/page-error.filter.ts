import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { COMMON_ERRORS, DomainError } from '../common/domain-error.js';
import { knownError, logServerFailure, setRetryAfter, toProblem } from '../common/problem-details.filter.js';
import { PAGE_CSP } from './html.js';
import { problemPage, resultQuery, ROUTES, signedOutHomePage, signedOutSettingsPage } from './pages.views.js';

/** Sends a page with the pages' headers: HTML, their CSP, never cached (it names who is signed in). */
export function sendPage(response: Response, status: number, page: string): void {
  response
    .status(status)
    .setHeader('Content-Security-Policy', PAGE_CSP)
    .setHeader('Cache-Control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(page);
}

/**
 * A person opening a page gets a page, never a problem document: without a session the page says so and
 * offers to sign in (keeping the outcome the URL carries); any other refusal is its problem's detail.
 */
@Catch()
export class PageErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Pages');

  catch(error: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<Request>();
    const response = host.switchToHttp().getResponse<Response>();
    if (response.headersSent) return;
    if (error instanceof DomainError && error.code === COMMON_ERRORS.UNAUTHENTICATED.code) {
      const page =
        request.path === ROUTES.home
          ? signedOutHomePage()
          : signedOutSettingsPage(request.path, resultQuery(request.query));
      return sendPage(response, 401, page);
    }
    const known = knownError(error);
    const problem = toProblem(known);
    logServerFailure(this.logger, known, problem.status);
    setRetryAfter(response, problem);
    sendPage(response, problem.status, problemPage(problem.title, problem.detail));
  }
}
