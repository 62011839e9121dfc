import { Controller, Get, HttpCode, Post, Query, Req, Res } from '@nestjs/common';
import { ApiFoundResponse, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Inject } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiAuthorizationCallbackQuery, callbackParamsOf } from '../auth-flows/callback-query.js';
import { Auth, CurrentPrincipal } from '../common/auth.decorators.js';
import { type Principal, sessionUser } from '../common/principal.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { SignInLimit } from '../rate-limits/sign-in-limit.decorator.js';
import { SignInLimitsService } from '../rate-limits/sign-in-limits.service.js';
import { SIGN_IN_ERRORS } from './auth.errors.js';
import { AuthService } from './auth.service.js';
import { LoginQueryDto } from './dto/login-query.dto.js';
import {
  flowCookieName,
  flowCookieOptions,
  invitationChoiceCookieName,
  invitationChoiceCookieOptions,
  readCookie,
  sessionCookieName,
  sessionCookieOptions,
} from '../sessions/session-cookie.js';

const errorList = Object.entries(SIGN_IN_ERRORS)
  .map(([code, message]) => `- \`${code}\`: ${message}`)
  .join('\n');

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly limits: SignInLimitsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('microsoft/login')
  @Auth('public')
  @SignInLimit({ step: 'start', browserRedirect: '/sign-in?error=rate_limited' })
  @ApiOperation({
    operationId: 'signInWithMicrosoft',
    summary: 'Continue with Microsoft: redirect to Microsoft sign-in',
    description:
      'Starts an OpenID Connect authorization-code flow with PKCE, `state` and `nonce` against the `organizations` ' +
      'endpoint (work and school accounts). A browser navigation, not an API call: open ' +
      '[/auth/microsoft/login](/auth/microsoft/login) in this browser (Swagger UI’s “Try it out” cannot follow ' +
      'a redirect to Microsoft). It ends at the callback, with the session cookie set for this origin.',
  })
  @ApiFoundResponse({ description: 'Redirect to Microsoft’s authorize endpoint.' })
  async login(
    @Query() query: LoginQueryDto,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const { authorizationUrl, browserBinding } = await this.auth.startSignIn({
      returnTo: query.returnTo,
      loginHint: query.login_hint,
      domainHint: query.domain_hint,
      browserBinding: readCookie(request, flowCookieName(this.config)),
    });
    response.cookie(flowCookieName(this.config), browserBinding, flowCookieOptions(this.config));
    response.redirect(302, authorizationUrl);
  }

  @Get('microsoft/callback')
  @Auth('public')
  @SignInLimit({ step: 'finish', browserRedirect: '/sign-in?error=rate_limited' })
  @ApiOperation({
    operationId: 'microsoftSignInCallback',
    summary: 'Microsoft redirects here after sign-in',
    description:
      'Redeems the code, validates the ID token, signs the user in (or creates their organization) and sets the ' +
      '`session` cookie (`__Host-session` when `APP_BASE_URL` is https), then redirects to the UI at `returnTo`. ' +
      'When several organizations invited the address (and no connected tenant claims its domain), nobody is ' +
      'created yet: it sets the `invitation_choice` cookie and redirects to `APP_UI_URL/sign-in/choose-organization` ' +
      '(see `GET /auth/invitations`). ' +
      'Must arrive in the browser that started the sign-in (its flow cookie); a callback that does not is ' +
      'refused without spending the flow. On failure it redirects to `APP_UI_URL/sign-in?error=<code>` without ' +
      'a session. Codes:\n' +
      errorList,
  })
  @ApiAuthorizationCallbackQuery()
  @ApiFoundResponse({
    description:
      'Redirect to the UI (`returnTo`), to its organization choice page, or to its sign-in page with `?error=`.',
  })
  async callback(
    @Query() query: Record<string, unknown>,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const outcome = await this.auth.completeSignIn({
      ...callbackParamsOf(query),
      browserBinding: readCookie(request, flowCookieName(this.config)),
      userAgent: request.headers['user-agent'],
    });
    await (outcome.ok
      ? this.limits.recordSuccess(request)
      : this.limits.recordFailure(request, { account: outcome.account }));
    // Only when the flow this cookie bound has finished: a forged callback must not end other pending tabs.
    if (outcome.clearFlowCookie)
      response.clearCookie(flowCookieName(this.config), {
        ...flowCookieOptions(this.config),
        maxAge: undefined,
      });
    if (outcome.ok && 'session' in outcome) {
      response.cookie(
        sessionCookieName(this.config),
        outcome.session.token,
        sessionCookieOptions(this.config, outcome.session.expiresAt),
      );
    }
    if (outcome.ok && 'choice' in outcome) {
      response.cookie(
        invitationChoiceCookieName(this.config),
        outcome.choice.binding,
        invitationChoiceCookieOptions(this.config, outcome.choice.expiresAt),
      );
    }
    response.redirect(302, outcome.redirectTo);
  }

  @Post('logout')
  @HttpCode(204)
  @Auth('session')
  @ApiOperation({
    operationId: 'signOut',
    summary: 'Sign out: revoke the current session',
    description: 'Revokes the current session and clears the session cookie.',
  })
  @ApiNoContentResponse({ description: 'The session is revoked and the cookie cleared.' })
  async logout(
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) response: Response,
  ): Promise<void> {
    await this.auth.signOut(sessionUser(principal).sessionId);
    response.clearCookie(sessionCookieName(this.config), {
      ...sessionCookieOptions(this.config, new Date(0)),
      expires: undefined,
    });
  }
}
