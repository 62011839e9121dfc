import { Body, Controller, Delete, Get, HttpCode, Patch, Post } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { Auth, CurrentPrincipal, RequiresPlan, Roles } from '../common/auth.decorators.js';
import { COMMON_ERRORS, ValidationFailedError } from '../common/domain-error.js';
import type { Principal } from '../common/principal.js';
import { DomainsClaimedError } from '../domain-claims/domain-claims.errors.js';
import {
  TenantAssignmentResponseDto,
  toTenantAssignmentResponse,
  UpdateTenantAssignmentDto,
  VerifyTenantAssignmentDto,
  VerifyTenantAssignmentResponseDto,
} from './dto/tenant-assignment.dto.js';
import {
  DomainsRequireVerificationError,
  MicrosoftSignInRequiredError,
  TenantAssignmentNotEnabledError,
} from './tenant-assignment.errors.js';
import { TenantAssignmentService } from './tenant-assignment.service.js';

@ApiTags('tenant-assignment')
@Controller('api/v1/tenant-assignment')
@Auth('session')
@Roles('owner', 'admin')
export class TenantAssignmentController {
  constructor(private readonly assignments: TenantAssignmentService) {}

  @Get()
  @ApiOperation({
    operationId: 'getTenantAssignment',
    summary: 'Tenant user assignment: status, tenant, domains, who verified it',
    description: 'Readable on every plan, so a suspended assignment (plan downgraded) shows as `suspended`.',
  })
  @ApiOkResponse({ type: TenantAssignmentResponseDto, description: 'The organization’s tenant assignment.' })
  async get(@CurrentPrincipal() principal: Principal): Promise<TenantAssignmentResponseDto> {
    return toTenantAssignmentResponse(await this.assignments.getStatus(principal));
  }

  @Post('verify')
  @HttpCode(200)
  @RequiresPlan('team')
  @ApiErrors(
    ValidationFailedError,
    COMMON_ERRORS.MALFORMED_JSON,
    DomainsClaimedError,
    MicrosoftSignInRequiredError,
  )
  @ApiOperation({
    operationId: 'verifyTenantAssignment',
    summary: 'Save & Verify: start a tenant administrator’s fresh Microsoft sign-in',
    description:
      'Validates the domains (400 naming each invalid or public mail domain) and checks that no other ' +
      'organization of the tenant claims one (409 `DOMAINS_CLAIMED`), then returns a Microsoft authorize URL for ' +
      'the organization’s tenant with scopes `openid profile` only (no Graph permission), `prompt=login` and ' +
      '`max_age=0`. Open it in the same browser session; Microsoft returns to `/auth/microsoft/assignment/callback`, ' +
      'which redirects to `APP_UI_URL/settings/tenant-assignment`. Valid for 10 minutes, for this user only. ' +
      'Nothing changes until the callback has verified it; every verification needs its own sign-in.',
  })
  @ApiOkResponse({
    type: VerifyTenantAssignmentResponseDto,
    description: 'The Microsoft sign-in URL that verifies the domains.',
  })
  async verify(
    @CurrentPrincipal() principal: Principal,
    @Body() body: VerifyTenantAssignmentDto,
  ): Promise<VerifyTenantAssignmentResponseDto> {
    return { authorizationUrl: await this.assignments.startVerification(principal, body) };
  }

  @Patch()
  @RequiresPlan('team')
  @ApiErrors(
    ValidationFailedError,
    COMMON_ERRORS.MALFORMED_JSON,
    DomainsRequireVerificationError,
    TenantAssignmentNotEnabledError,
  )
  @ApiOperation({
    operationId: 'updateTenantAssignment',
    summary: 'Remove domains or switch auto-activate (no new sign-in)',
    description:
      'Accepts removals only: a domain not already listed is 400 `DOMAINS_REQUIRE_VERIFICATION` (use Save & ' +
      'Verify). Switching `autoActivate` on applies to new arrivals; users already awaiting approval stay pending.',
  })
  @ApiOkResponse({
    type: TenantAssignmentResponseDto,
    description: 'The tenant assignment after the change.',
  })
  async update(
    @CurrentPrincipal() principal: Principal,
    @Body() body: UpdateTenantAssignmentDto,
  ): Promise<TenantAssignmentResponseDto> {
    return toTenantAssignmentResponse(await this.assignments.update(principal, body));
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({
    operationId: 'disableTenantAssignment',
    summary: 'Disable tenant user assignment',
    description:
      'Clears the domain list and releases its claims; no Microsoft sign-in needed. Users it brought keep their ' +
      'accounts and seats. Idempotent.',
  })
  @ApiNoContentResponse({ description: 'Disabled.' })
  async disable(@CurrentPrincipal() principal: Principal): Promise<void> {
    await this.assignments.disable(principal);
  }
}
