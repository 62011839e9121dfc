import { Body, Controller, Delete, HttpCode, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/api-errors.decorator.js';
import { Auth, CurrentPrincipal, RequiresPlan, Roles } from '../../common/auth.decorators.js';
import { COMMON_ERRORS, ValidationFailedError } from '../../common/domain-error.js';
import type { Principal } from '../../common/principal.js';
import { UuidParam } from '../../common/uuid-param.js';
import { CreatedScimTokenDto, CreateScimTokenDto, toScimTokenResponse } from './dto/scim-token.dto.js';
import {
  ScimTokenExpiryInPastError,
  ScimTokenLimitReachedError,
  ScimTokenNotFoundError,
} from './scim-access.errors.js';
import { ScimAccessService } from './scim-access.service.js';

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
  constructor(private readonly access: ScimAccessService) {}

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
