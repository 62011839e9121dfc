import { Controller, Get, Header, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { UuidParam } from '../common/uuid-param.js';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Auth } from '../common/auth.decorators.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { RateLimitedError } from '../rate-limits/rate-limits.errors.js';
import { SignInLimit } from '../rate-limits/sign-in-limit.decorator.js';
import { SignInLimitsService } from '../rate-limits/sign-in-limits.service.js';
import {
  invitationChoiceCookieName,
  invitationChoiceCookieOptions,
  readCookie,
  sessionCookieName,
  sessionCookieOptions,
} from '../sessions/session-cookie.js';
import { InvitationChoiceInvalidError, SignInRefusedProblem } from './auth.errors.js';
import { AuthService } from './auth.service.js';
import { InvitationNoLongerPendingError, InvitationNotFoundError } from '../users/invitations.errors.js';
import {
  InvitationChoiceDto,
  SignInCompletedDto,
  toInvitationChoiceResponse,
} from './dto/invitation-choice.dto.js';

/**
 * The organization choice that ends a sign-in when several organizations invited the address. Both routes are
 * `@Auth('public')`: the person has no session yet — that is what accepting creates. What authenticates them
 * is the HttpOnly choice cookie the callback set (a browser binding, as for the redirect flows), which the
 * service checks on every call; without it both answer 401.
 *
 * They finish a sign-in, so they are under its limits like the callback: refused while the address' failure
 * budget is spent, and every refusal (a forged, expired or used cookie, an invitation not offered) counts as a
 * failure of the address. The callback that offered the choice already counted the sign-in as a success.
 */
@ApiTags('auth')
@Controller('auth/invitations')
export class InvitationChoiceController {
  constructor(
    private readonly auth: AuthService,
    private readonly limits: SignInLimitsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Counts a refused step against the address, then lets the problem-details filter render it. */
  private async countingFailures<T>(request: Request, step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      if (!(error instanceof RateLimitedError)) await this.limits.recordFailure(request);
      throw error;
    }
  }

  @Get()
  @Auth('public')
  @SignInLimit({ step: 'finish', browserRedirect: '/sign-in?error=rate_limited' })
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'listSignInInvitations',
    summary: 'The organizations that invited you, to choose one and finish signing in',
    description:
      'When several organizations invited the address of a first Microsoft sign-in (and no connected tenant ' +
      'claims its domain), the callback creates nobody: it sets the HttpOnly `invitation_choice` cookie ' +
      '(`__Host-invitation-choice` when `APP_BASE_URL` is https), valid 10 minutes in that browser only, and ' +
      'redirects to `APP_UI_URL/sign-in/choose-organization`. That page lists the organizations here: names and ' +
      'offered roles only.',
  })
  @ApiOkResponse({ type: InvitationChoiceDto, description: 'The pending invitations of this choice.' })
  @ApiErrors(InvitationChoiceInvalidError)
  async list(@Req() request: Request): Promise<InvitationChoiceDto> {
    const choice = await this.countingFailures(request, () =>
      this.auth.listInvitationChoice(readCookie(request, invitationChoiceCookieName(this.config))),
    );
    return toInvitationChoiceResponse(choice);
  }

  @Post(':id/accept')
  @HttpCode(200)
  @Auth('public')
  @SignInLimit({ step: 'finish', browserRedirect: '/sign-in?error=rate_limited' })
  @ApiOperation({
    operationId: 'acceptSignInInvitation',
    summary: 'Join the chosen organization and finish signing in',
    description:
      'Completes the sign-in exactly as one with a single invitation does: the user is created in that ' +
      'organization with the invited role (or what group mapping resolves), the invitation is accepted, the ' +
      'seat limit applies, the others stay pending. Sets the `session` cookie, clears the choice cookie and ' +
      'answers where the browser goes next (`redirectTo`, the UI at the `returnTo` the sign-in started with). ' +
      'The choice is single use and spent only once the invitation is known to be pending: an invitation not ' +
      'offered (`INVITATION_NOT_FOUND`) or revoked meanwhile (`INVITATION_NO_LONGER_PENDING`) leaves it usable. ' +
      'A refusal after it was spent is `SIGN_IN_REFUSED` with `reason` (e.g. `seat_limit_reached`): sign in again.',
  })
  @ApiOkResponse({
    type: SignInCompletedDto,
    description: 'Signed in: the session cookie is set; go to `redirectTo`.',
  })
  @ApiErrors(
    InvitationChoiceInvalidError,
    InvitationNotFoundError,
    InvitationNoLongerPendingError,
    SignInRefusedProblem,
  )
  async accept(
    @UuidParam('id', InvitationNotFoundError) id: string,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<SignInCompletedDto> {
    const { session, redirectTo } = await this.countingFailures(request, () =>
      this.auth.acceptInvitationChoice(
        readCookie(request, invitationChoiceCookieName(this.config)),
        id,
        request.headers['user-agent'],
      ),
    );
    response.cookie(
      sessionCookieName(this.config),
      session.token,
      sessionCookieOptions(this.config, session.expiresAt),
    );
    response.clearCookie(invitationChoiceCookieName(this.config), {
      ...invitationChoiceCookieOptions(this.config, new Date(0)),
      expires: undefined,
    });
    return { redirectTo };
  }
}
