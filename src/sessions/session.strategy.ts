import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { Authenticators, type RequestAuthenticator } from '../common/authenticators.js';
import { API_KEY_PREFIX, bearerToken } from '../common/guards.js';
import { callerProfileWanted, type Principal } from '../common/principal.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { readCookie, sessionCookieName } from './session-cookie.js';
import { UsersService } from '../users/users.service.js';
import { SessionsService } from './sessions.service.js';

/**
 * Authenticates a request from `Authorization: Bearer <token>` (integrators) or the HttpOnly session cookie
 * (the SPA). Role, status and plan are read fresh each time (one query, see `SessionsService.authenticate`), so
 * a deactivation, a role or a plan change applies to the very next request.
 */
@Injectable()
export class SessionStrategy implements RequestAuthenticator {
  constructor(
    private readonly sessions: SessionsService,
    private readonly users: UsersService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    authenticators: Authenticators,
  ) {
    authenticators.register('session', this);
  }

  async validate(request: Request): Promise<Principal | false> {
    const token = bearerToken(request) ?? readCookie(request, sessionCookieName(this.config));
    if (!token || token.startsWith(API_KEY_PREFIX)) return false;
    // On `GET /me` and the like, the lookup reads the caller's profile too: one statement for the request.
    const profile = callerProfileWanted(request) ? this.users.callerProfileQuery() : undefined;
    return (await this.sessions.authenticate(token, profile)) ?? false;
  }
}
