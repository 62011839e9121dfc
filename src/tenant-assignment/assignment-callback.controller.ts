import { Controller, Get, Inject, Query, Req, Res } from '@nestjs/common';
import { ApiFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiAuthorizationCallbackQuery, callbackParamsOf } from '../auth-flows/callback-query.js';
import { Auth } from '../common/auth.decorators.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { SignInLimit } from '../rate-limits/sign-in-limit.decorator.js';
import { SignInLimitsService } from '../rate-limits/sign-in-limits.service.js';
import { readCookie, sessionCookieName } from '../sessions/session-cookie.js';
import { ASSIGNMENT_VERIFICATION_ERRORS } from './tenant-assignment.errors.js';
import { TenantAssignmentService } from './tenant-assignment.service.js';

const errorList = Object.entries(ASSIGNMENT_VERIFICATION_ERRORS)
  .map(([code, message]) => `- \`${code}\`: ${message}`)
  .join('\n');

@ApiTags('tenant-assignment')
@Controller('auth/microsoft/assignment')
export class AssignmentCallbackController {
  constructor(
    private readonly assignments: TenantAssignmentService,
    private readonly limits: SignInLimitsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('callback')
  @Auth('public')
  @SignInLimit({
    step: 'finish',
    browserRedirect: '/settings/tenant-assignment?status=error&code=rate_limited',
  })
  @ApiOperation({
    operationId: 'microsoftAssignmentCallback',
    summary: 'Microsoft redirects here after a tenant assignment verification',
    description:
      'Must arrive in the browser session of the Owner or Admin who started Save & Verify. The ID token is ' +
      'validated in full; then the sign-in must be fresh (`auth_time`, or `iat`, within 10 minutes), by a member ' +
      'of the organization’s tenant (not a guest, personal account or another tenant’s account) holding Global, ' +
      'Privileged Role, Application or Cloud Application Administrator in `wids`, and no other organization may ' +
      'claim the domains at that moment. Redirects to `APP_UI_URL/settings/tenant-assignment?status=enabled`, or ' +
      '`?status=error&code=<code>` (with `domains=` for `domains_claimed`) having changed nothing. Codes:\n' +
      errorList,
  })
  @ApiAuthorizationCallbackQuery()
  @ApiFoundResponse({ description: 'Redirect to the UI’s tenant assignment settings page.' })
  async callback(
    @Query() query: Record<string, unknown>,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const outcome = await this.assignments.completeVerification({
      ...callbackParamsOf(query),
      sessionToken: readCookie(request, sessionCookieName(this.config)),
    });
    if (outcome.error) await this.limits.recordFailure(request);
    response.redirect(302, outcome.redirectTo);
  }
}
