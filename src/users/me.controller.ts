import { Controller, Get, HttpCode, Inject, Post, Res } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { SESSION_COOKIE, sessionCookieOptions } from '../auth/session-cookie.js';
import { SessionsService } from '../auth/sessions.service.js';
import { Auth, CurrentPrincipal } from '../common/auth.decorators.js';
import type { Principal } from '../common/principal.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { OrganizationResponseDto, toOrganizationResponse } from '../organizations/dto/organization.dto.js';
import { MeResponseDto, toMeResponse } from './dto/user.dto.js';
import { UsersService } from './users.service.js';

/** The signed-in user's own view: who they are and the organization they belong to. */
@ApiTags('me')
@Controller('api/v1')
@Auth('session')
export class MeController {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('me')
  @ApiOperation({ operationId: 'getMe', summary: 'The signed-in user' })
  @ApiOkResponse({ type: MeResponseDto })
  async me(@CurrentPrincipal() principal: Principal): Promise<MeResponseDto> {
    const { user, identities } = await this.users.getMe(principal);
    return toMeResponse(user, identities);
  }

  @Get('organization')
  @ApiOperation({
    operationId: 'getOrganization',
    summary: 'The signed-in user’s organization, plan and seats',
  })
  @ApiOkResponse({ type: OrganizationResponseDto })
  async organization(@CurrentPrincipal() principal: Principal): Promise<OrganizationResponseDto> {
    const { organization, seatsUsed } = await this.users.getOrganizationOf(principal);
    return toOrganizationResponse(organization, seatsUsed);
  }

  @Post('me/sessions/revoke')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'revokeMySessions',
    summary: 'Sign out everywhere: revoke every session of the signed-in user',
    description:
      'Ends all of the caller’s sessions in every browser and integration, the current one included, and ' +
      'clears the session cookie. Audited as `user.sessions_revoked`.',
  })
  @ApiNoContentResponse({ description: 'Every session is revoked and the cookie cleared.' })
  async revokeSessions(
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) response: Response,
  ): Promise<void> {
    await this.sessions.revokeAllOf(principal);
    response.clearCookie(SESSION_COOKIE, {
      ...sessionCookieOptions(this.config, new Date(0)),
      expires: undefined,
    });
  }
}
