import {
  type ArgumentsHost,
  applyDecorators,
  Catch,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
  Inject,
  Injectable,
  SetMetadata,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiErrorsWith } from '../common/api-errors.decorator.js';
import type { Request, Response } from 'express';
import { ProblemDetailsFilter } from '../common/problem-details.filter.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { RateLimitedError } from './rate-limits.errors.js';
import { SignInLimitsService } from './sign-in-limits.service.js';

interface SignInLimitOptions {
  /** `start` counts an open flow; `finish` is a callback, refused while the address' failures are spent. */
  step: 'start' | 'finish';
  /** Where a person's browser goes instead of a bare 429 (a path of APP_UI_URL, with its query). */
  browserRedirect: string;
}

const SIGN_IN_LIMIT = Symbol('sign-in-limit');

/**
 * Puts a browser flow route under the sign-in budgets. Refusals carry `Retry-After`: API clients get a 429
 * problem+json (`RATE_LIMITED`), a browser navigating there is sent to the UI page it would reach anyway,
 * which can say why and when to retry (a bare JSON error is a dead end for a person).
 */
export function SignInLimit(options: SignInLimitOptions): MethodDecorator {
  return applyDecorators(
    SetMetadata(SIGN_IN_LIMIT, options),
    UseGuards(SignInLimitGuard),
    UseFilters(signInLimitFilter(options.browserRedirect)),
    ApiErrorsWith(
      {
        note:
          'Too many failed, forged or unfinished sign-ins from this address; `Retry-After` says when to retry. ' +
          `A browser (\`Accept: text/html\`) is redirected to \`APP_UI_URL${options.browserRedirect}\`` +
          ' with `retryAfter=<seconds>` instead.',
        headers: {
          'Retry-After': { description: 'Seconds until a retry can succeed.', schema: { type: 'integer' } },
        },
      },
      RateLimitedError,
    ),
  );
}

@Injectable()
export class SignInLimitGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly limits: SignInLimitsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const options = this.reflector.get<SignInLimitOptions>(SIGN_IN_LIMIT, context.getHandler());
    const request = context.switchToHttp().getRequest<Request>();
    if (options.step === 'start') await this.limits.assertMayStart(request);
    else await this.limits.assertMayFinish(request);
    return true;
  }
}

/** A filter per route, because a filter cannot read its route's metadata but must know where to send people. */
function signInLimitFilter(browserRedirect: string) {
  @Catch(RateLimitedError)
  @Injectable()
  class SignInLimitFilter implements ExceptionFilter {
    private readonly problems = new ProblemDetailsFilter();

    constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

    catch(error: RateLimitedError, host: ArgumentsHost): void {
      const request = host.switchToHttp().getRequest<Request>();
      const response = host.switchToHttp().getResponse<Response>();
      response.setHeader('Retry-After', String(error.retryAfterSeconds));
      if (!isBrowserNavigation(request)) return this.problems.catch(error, host);
      const target = new URL(`${this.config.appUiUrl}${browserRedirect}`);
      target.searchParams.set('retryAfter', String(error.retryAfterSeconds));
      response.redirect(302, target.toString());
    }
  }
  return SignInLimitFilter;
}

function isBrowserNavigation(request: Request): boolean {
  return (
    request.headers['sec-fetch-mode'] === 'navigate' ||
    (request.headers.accept ?? '').toLowerCase().includes('text/html')
  );
}
