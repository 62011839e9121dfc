import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { InvalidCursorError } from '../../common/pagination.js';
import { ApiErrors } from '../../common/api-errors.decorator.js';
import { Auth, CurrentPrincipal, RequiresPlan, Roles } from '../../common/auth.decorators.js';
import { COMMON_ERRORS, ValidationFailedError } from '../../common/domain-error.js';
import type { Principal } from '../../common/principal.js';
import { UuidParam } from '../../common/uuid-param.js';
import {
  ListScimRequestsQueryDto,
  ScimRequestListDto,
  ScimSettingsResponseDto,
  ScimStatusDto,
  toScimRequestResponse,
  UpdateScimSettingsDto,
} from './dto/scim-status.dto.js';
import { CreatedScimTokenDto, CreateScimTokenDto, toScimTokenResponse } from './dto/scim-token.dto.js';
import {
  ScimTokenExpiryInPastError,
  ScimTokenLimitReachedError,
  ScimTokenNotFoundError,
} from './scim-access.errors.js';
import { ScimAccessService } from './scim-access.service.js';
import { ScimRequestLogService } from './scim-request-log.service.js';
import { ScimSelfTestService } from './scim-self-test.service.js';
import { ScimStatusService } from './scim-status.service.js';
import { ScimSelfTestResultDto } from './dto/scim-self-test.dto.js';

/**
 * SCIM provisioning as an Owner or Admin manages it: tokens, the switch, the provisioning log. A person's job:
 * no route here accepts an API key, and a SCIM token opens only `/scim/v2`.
 */
@ApiTags('scim')
@Controller('api/v1/integrations/scim')
@Auth('session')
@Roles('owner', 'admin')
@RequiresPlan('enterprise')
export class ScimManagementController {
  constructor(
    private readonly access: ScimAccessService,
    private readonly statuses: ScimStatusService,
    private readonly log: ScimRequestLogService,
    private readonly selfTest: ScimSelfTestService,
  ) {}

  @Post('self-test')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'runScimSelfTest',
    summary: 'Test the SCIM endpoint as Entra would',
    description:
      'Runs, against the live `/scim/v2` of this service with a throw-away token (revoked when done, outside ' +
      'the two-token limit), Entra’s Test Connection and what a first cycle does to one user: create, ' +
      'deactivate, delete, and the 404 after. Reports each step; stops at the first that fails. The throw-away ' +
      'user stays deactivated and hidden from SCIM, as any user deleted through SCIM. Works with SCIM on only.',
  })
  @ApiOkResponse({ type: ScimSelfTestResultDto, description: 'The steps and their outcome.' })
  async runSelfTest(@CurrentPrincipal() principal: Principal): Promise<ScimSelfTestResultDto> {
    return this.selfTest.run(principal);
  }

  @Get()
  @ApiOperation({
    operationId: 'getScimStatus',
    summary: 'SCIM provisioning status',
    description:
      'Whether SCIM is on, the Tenant URL to paste into the Entra provisioning pane, the live tokens (last used ' +
      'at and from), how many users and groups SCIM manages, the last request and the last error, and warnings ' +
      '(a token expiring within 14 days).',
  })
  @ApiOkResponse({ type: ScimStatusDto, description: 'The status.' })
  async status(@CurrentPrincipal() principal: Principal): Promise<ScimStatusDto> {
    const status = await this.statuses.status(principal.organizationId);
    return {
      ...status,
      tokens: status.tokens.map((t) => ({ ...toScimTokenResponse(t), expiresSoon: t.expiresSoon })),
      lastRequest: status.lastRequest && toScimRequestResponse(status.lastRequest),
      lastError: status.lastError && toScimRequestResponse(status.lastError),
    };
  }

  @Patch('settings')
  @ApiErrors(ValidationFailedError, COMMON_ERRORS.MALFORMED_JSON)
  @ApiOperation({
    operationId: 'updateScimSettings',
    summary: 'Switch SCIM provisioning on or off',
    description:
      'Off: every SCIM request is refused with 403 and changes nothing; tokens stay. On again: it works again. ' +
      'A change is audited (`scim.enabled`, `scim.disabled`).',
  })
  @ApiOkResponse({ type: ScimSettingsResponseDto, description: 'The settings now in force.' })
  async updateSettings(
    @CurrentPrincipal() principal: Principal,
    @Body() body: UpdateScimSettingsDto,
  ): Promise<ScimSettingsResponseDto> {
    await this.access.setEnabled(principal, body.enabled);
    return { enabled: body.enabled };
  }

  @Get('requests')
  @ApiErrors(ValidationFailedError, InvalidCursorError)
  @ApiOperation({
    operationId: 'listScimRequests',
    summary: 'The provisioning log',
    description:
      'Every SCIM request of the organization of the last 30 days, newest first (refusals included: a revoked ' +
      'or expired token still names its organization): time, method, path, status, `scimType`, detail, the ' +
      'user or group addressed, duration and the request body with secrets removed. What to open when Entra’s ' +
      'provisioning logs show a failure.',
  })
  @ApiOkResponse({ type: ScimRequestListDto, description: 'One page of the log.' })
  async requests(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListScimRequestsQueryDto,
  ): Promise<ScimRequestListDto> {
    const page = await this.log.list(principal.organizationId, query);
    return { items: page.items.map(toScimRequestResponse), nextCursor: page.nextCursor };
  }

  @Post('tokens')
  @ApiErrors(
    ValidationFailedError,
    COMMON_ERRORS.MALFORMED_JSON,
    ScimTokenExpiryInPastError,
    ScimTokenLimitReachedError,
  )
  @ApiOperation({
    operationId: 'createScimToken',
    summary: 'Create a SCIM token',
    description:
      'The Secret Token for the Entra provisioning pane, in the response once and never again (only its hash ' +
      'is stored), with the Tenant URL to paste beside it. At most two live tokens: to rotate, create the new ' +
      'one, paste it into Entra, then revoke the old one. No expiry unless asked. Audited.',
  })
  @ApiCreatedResponse({ type: CreatedScimTokenDto, description: 'The new token, shown this once.' })
  async createToken(
    @CurrentPrincipal() principal: Principal,
    @Body() body: CreateScimTokenDto,
  ): Promise<CreatedScimTokenDto> {
    const { token, secret } = await this.access.createToken(principal, body);
    return { ...toScimTokenResponse(token), token: secret, tenantUrl: this.access.tenantUrl };
  }

  @Delete('tokens/:id')
  @HttpCode(204)
  @ApiErrors(ScimTokenNotFoundError)
  @ApiOperation({
    operationId: 'revokeScimToken',
    summary: 'Revoke a SCIM token at once',
    description: 'The next SCIM request with the token is refused with 401; the revocation is audited.',
  })
  @ApiNoContentResponse({ description: 'Revoked: the next SCIM request with the token is refused.' })
  async revokeToken(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', ScimTokenNotFoundError) id: string,
  ): Promise<void> {
    await this.access.revokeToken(principal, id);
  }
}
