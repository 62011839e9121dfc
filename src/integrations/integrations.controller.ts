import { Body, Controller, Delete, Get, HttpCode, Patch, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Auth, CurrentPrincipal, RequiresPlan, Roles } from '../common/auth.decorators.js';
import type { Principal } from '../common/principal.js';
import { ProblemDocumentDto } from '../common/problem.dto.js';
import {
  ConnectEntraResponseDto,
  EntraIntegrationResponseDto,
  toEntraIntegrationResponse,
  UpdateEntraSettingsDto,
} from './dto/entra-integration.dto.js';
import { IntegrationsService } from './integrations.service.js';

const NOT_CONNECTED = { description: 'Not connected (`ENTRA_NOT_CONNECTED`).', type: ProblemDocumentDto };

@ApiTags('integrations')
@Controller('api/v1/integrations/entra')
@Auth('session')
export class IntegrationsController {
  constructor(private readonly integrations: IntegrationsService) {}

  private async status(organizationId: string): Promise<EntraIntegrationResponseDto> {
    return toEntraIntegrationResponse(await this.integrations.getStatus(organizationId));
  }

  @Get()
  @Roles('owner', 'admin')
  @ApiOperation({
    operationId: 'getEntraIntegration',
    summary: 'Connection status, tenant, verified domains and settings',
  })
  @ApiOkResponse({ type: EntraIntegrationResponseDto })
  async get(@CurrentPrincipal() principal: Principal): Promise<EntraIntegrationResponseDto> {
    return this.status(principal.organizationId);
  }

  @Post('connect')
  @HttpCode(200)
  @Roles('owner', 'admin')
  @RequiresPlan('enterprise')
  @ApiOperation({
    operationId: 'connectEntra',
    summary: 'Start connecting an Entra ID tenant (admin consent)',
    description:
      'Returns a Microsoft authorize URL with `prompt=consent` for the read-only, admin-consent permissions ' +
      '`User.Read.All` and `Group.Read.All`. Open it in the same browser session; Microsoft returns to ' +
      '`/auth/microsoft/connect/callback`, which redirects to `APP_UI_URL/settings/integrations/entra`. ' +
      'The link is valid for 10 minutes, for this user and organization only. Reconnecting the same tenant ' +
      'refreshes consent and keeps the settings.',
  })
  @ApiOkResponse({ type: ConnectEntraResponseDto })
  async connect(@CurrentPrincipal() principal: Principal): Promise<ConnectEntraResponseDto> {
    return { authorizationUrl: await this.integrations.startConnect(principal) };
  }

  @Post('refresh')
  @HttpCode(200)
  @Roles('owner', 'admin')
  @ApiOperation({
    operationId: 'refreshEntraTenantDetails',
    summary: 'Re-read the tenant name and verified domains from Microsoft Graph',
    description: 'The fix when tenant details are missing or have changed in Entra ID.',
  })
  @ApiOkResponse({ type: EntraIntegrationResponseDto })
  @ApiConflictResponse({
    description:
      'Not connected (`ENTRA_NOT_CONNECTED`), Microsoft refused the grant (`ENTRA_REAUTHORIZATION_REQUIRED`), or ' +
      'the stored credentials cannot be decrypted (`ENTRA_CREDENTIALS_UNREADABLE`): connect the tenant again.',
    type: ProblemDocumentDto,
  })
  @ApiServiceUnavailableResponse({
    description:
      'Microsoft Graph failed (`GRAPH_REQUEST_FAILED`) or Microsoft’s token endpoint failed (`MICROSOFT_TOKEN_ERROR`); ' +
      'retry later.',
    type: ProblemDocumentDto,
  })
  async refresh(@CurrentPrincipal() principal: Principal): Promise<EntraIntegrationResponseDto> {
    await this.integrations.refreshTenantDetails(principal);
    return this.status(principal.organizationId);
  }

  @Patch('settings')
  @Roles('owner', 'admin')
  @RequiresPlan('enterprise')
  @ApiOperation({
    operationId: 'updateEntraSettings',
    summary: 'Switch features on or off',
    description:
      'Any subset of the three toggles (each independent, effective immediately) and of the sync safety threshold.',
  })
  @ApiOkResponse({ type: EntraIntegrationResponseDto })
  @ApiBadRequestResponse({
    description: 'No or invalid toggles (`VALIDATION_FAILED`).',
    type: ProblemDocumentDto,
  })
  @ApiConflictResponse(NOT_CONNECTED)
  async updateSettings(
    @CurrentPrincipal() principal: Principal,
    @Body() body: UpdateEntraSettingsDto,
  ): Promise<EntraIntegrationResponseDto> {
    await this.integrations.updateSettings(principal, body);
    return this.status(principal.organizationId);
  }

  @Delete()
  @HttpCode(204)
  @Roles('owner', 'admin')
  @ApiOperation({
    operationId: 'disconnectEntra',
    summary: 'Disconnect the tenant',
    description:
      'Removes the stored tokens, tenant and domains; the three features stop at once. Users keep their accounts ' +
      'and roles, and a Microsoft-linked active user can still sign in with Microsoft.',
  })
  @ApiNoContentResponse({ description: 'Disconnected.' })
  @ApiConflictResponse(NOT_CONNECTED)
  async disconnect(@CurrentPrincipal() principal: Principal): Promise<void> {
    await this.integrations.disconnect(principal);
  }
}
