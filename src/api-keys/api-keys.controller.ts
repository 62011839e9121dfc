import { Body, Controller, Delete, Get, HttpCode, Post } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { Auth, CurrentPrincipal, Roles } from '../common/auth.decorators.js';
import { COMMON_ERRORS, ValidationFailedError } from '../common/domain-error.js';
import type { Principal } from '../common/principal.js';
import { UuidParam } from '../common/uuid-param.js';
import { ApiKeyExpiryInPastError, ApiKeyNotFoundError } from './api-keys.errors.js';
import { ApiKeysService } from './api-keys.service.js';
import { ApiKeyListDto, CreateApiKeyDto, CreatedApiKeyDto, toApiKeyResponse } from './dto/api-key.dto.js';

/** Key management is a person's job: no route here accepts an API key (a key cannot mint or read keys). */
@ApiTags('api-keys')
@Controller('api/v1/api-keys')
@Auth('session')
@Roles('owner', 'admin')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @ApiErrors(ValidationFailedError, COMMON_ERRORS.MALFORMED_JSON, ApiKeyExpiryInPastError)
  @ApiOperation({
    operationId: 'createApiKey',
    summary: 'Create an API key',
    description:
      'The key is in the response once, never again. It belongs to the organization and acts, within its ' +
      'scopes, as an Admin (never as an Owner); its uses are audited as the `api_key` actor.',
  })
  @ApiCreatedResponse({
    type: CreatedApiKeyDto,
    description: 'The new key, with the key itself (shown this once).',
  })
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() body: CreateApiKeyDto,
  ): Promise<CreatedApiKeyDto> {
    const { key, token } = await this.keys.create(principal, body);
    return { ...toApiKeyResponse(key), key: token };
  }

  @Get()
  @ApiOperation({
    operationId: 'listApiKeys',
    summary: 'List the organization’s API keys',
    description:
      'The organization’s live keys, newest first: name, prefix, scopes, who created them, expiry and last use. ' +
      'The keys themselves are never shown again.',
  })
  @ApiOkResponse({ type: ApiKeyListDto, description: 'The keys.' })
  async list(@CurrentPrincipal() principal: Principal): Promise<ApiKeyListDto> {
    return { items: (await this.keys.list(principal.organizationId)).map(toApiKeyResponse) };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiErrors(ApiKeyNotFoundError)
  @ApiOperation({
    operationId: 'revokeApiKey',
    summary: 'Revoke an API key at once',
    description: 'The key stops working with the next request; the revocation is audited.',
  })
  @ApiNoContentResponse({ description: 'Revoked: the next request with the key is refused.' })
  async revoke(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', ApiKeyNotFoundError) id: string,
  ): Promise<void> {
    await this.keys.revoke(principal, id);
  }
}
