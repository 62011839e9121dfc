import { Controller, HttpCode, Inject, Post, Res } from '@nestjs/common';
import { ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Auth, CurrentPrincipal } from '../common/auth.decorators.js';
import type { Principal } from '../common/principal.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { sessionCookieName, sessionCookieOptions } from './session-cookie.js';
import { SessionsService } from './sessions.service.js';

/** The signed-in user's own sessions. */
@ApiTags('me')
@Controller('api/v1/me/sessions')
@Auth('session')
export class SessionsController {
  constructor(
    private readonly sessions: SessionsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('revoke')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'revokeMySessions',
    summary: 'Sign out everywhere: revoke every session of the signed-in user',
    description:
      'Ends all of the caller’s sessions in every browser and integration, the current one included, and ' +
      'clears the session cookie. Audited as `user.sessions_revoked`.',
  })
  @ApiNoContentResponse({ description: 'Every session is revoked and the cookie cleared.' })
  async revokeAll(
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) response: Response,
  ): Promise<void> {
    await this.sessions.revokeAllOf(principal);
    response.clearCookie(sessionCookieName(this.config), {
      ...sessionCookieOptions(this.config, new Date(0)),
      expires: undefined,
    });
  }
}
