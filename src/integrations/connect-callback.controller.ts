import { Controller, Get, Inject, Query, Req, Res } from '@nestjs/common';
import { ApiFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiAuthorizationCallbackQuery, callbackParamsOf } from '../auth-flows/callback-query.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { readCookie, sessionCookieName } from '../sessions/session-cookie.js';
import { Auth } from '../common/auth.decorators.js';
import { SignInLimit } from '../rate-limits/sign-in-limit.decorator.js';
import { SignInLimitsService } from '../rate-limits/sign-in-limits.service.js';
import { CONNECT_ERRORS } from './integrations.errors.js';
import { ConnectFlowService } from './connect-flow.service.js';

const errorList = Object.entries(CONNECT_ERRORS)
  .map(([code, message]) => `- \`${code}\`: ${message}`)
  .join('\n');

@ApiTags('integrations')
@Controller('auth/microsoft/connect')
export class ConnectCallbackController {
  constructor(
    private readonly connectFlow: ConnectFlowService,
    private readonly limits: SignInLimitsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('callback')
  @Auth('public')
  @SignInLimit({
    step: 'finish',
    browserRedirect: '/settings/integrations/entra?status=error&code=rate_limited',
  })
  @ApiOperation({
    operationId: 'microsoftConnectCallback',
    summary: 'Microsoft redirects here after admin consent',
    description:
      'Must arrive in the browser session of the admin who started the connection, signed in at Microsoft as a ' +
      'tenant administrator (Global, Privileged Role, Application or Cloud Application Administrator). Redirects to ' +
      '`APP_UI_URL/settings/integrations/entra?status=connected`, or `?status=error&code=<code>` with nothing ' +
      'stored. Codes:\n' +
      errorList,
  })
  @ApiAuthorizationCallbackQuery()
  @ApiFoundResponse({ description: 'Redirect to the UI’s Entra settings page.' })
  async callback(
    @Query() query: Record<string, unknown>,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const outcome = await this.connectFlow.completeConnect({
      ...callbackParamsOf(query),
      sessionToken: readCookie(request, sessionCookieName(this.config)),
    });
    if (outcome.error) await this.limits.recordFailure(request);
    response.redirect(302, outcome.redirectTo);
  }
}
