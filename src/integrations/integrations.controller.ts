import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Auth, CurrentPrincipal, RequiresPlan, Roles } from '../common/auth.decorators.js';
import type { Principal } from '../common/principal.js';
import {
  ConnectEntraResponseDto,
  EntraIntegrationResponseDto,
  toEntraIntegrationResponse,
  UpdateEntraSettingsDto,
} from './dto/entra-integration.dto.js';
import { ConnectFlowService } from './connect-flow.service.js';
import { EntraConnectionService } from './entra-connection.service.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { TokenDecryptionError } from './token-cipher.js';
import { GraphRequestError, MicrosoftTokenError } from '../microsoft/microsoft.errors.js';
import { ValidationFailedError } from '../common/domain-error.js';
import { EntraNotConnectedError, EntraReauthorizationRequiredError } from './integrations.errors.js';
import { DomainsClaimedError } from '../domain-claims/domain-claims.errors.js';

@ApiTags('integrations')
@Controller('api/v1/integrations/entra')
@Auth('session')
export class IntegrationsController {
  constructor(
    private readonly connections: EntraConnectionService,
    private readonly connectFlow: ConnectFlowService,
  ) {}

  private async status(organizationId: string): Promise<EntraIntegrationResponseDto> {
    return toEntraIntegrationResponse(await this.connections.getStatus(organizationId));
  }

  @Get()
  @Roles('owner', 'admin')
  @ApiOperation({
    operationId: 'getEntraIntegration',
    summary: 'Connection status, tenant, verified domains and settings',
    description:
      'The organization’s Entra connection as the settings page shows it: `status` is `not_connected` until an ' +
      'Owner or Admin connects a tenant.',
  })
  @ApiOkResponse({ type: EntraIntegrationResponseDto, description: 'The connection (or `not_connected`).' })
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
      'refreshes consent and keeps the settings. The URL is also the `Location` header, so a client can ' +
      'open it directly.',
  })
  @ApiOkResponse({
    type: ConnectEntraResponseDto,
    description: 'The Microsoft URL to open, in the body and in `Location`.',
    headers: {
      Location: {
        description: 'The same Microsoft authorize URL as `authorizationUrl`.',
        schema: { type: 'string', format: 'uri' },
      },
    },
  })
  async connect(
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) response: Response,
  ): Promise<ConnectEntraResponseDto> {
    const authorizationUrl = await this.connectFlow.startConnect(principal);
    response.setHeader('Location', authorizationUrl);
    return { authorizationUrl };
  }

  @Post('refresh')
  @HttpCode(200)
  @Roles('owner', 'admin')
  @ApiOperation({
    operationId: 'refreshEntraTenantDetails',
    summary: 'Re-read the tenant name and verified domains from Microsoft Graph',
    description:
      'The fix when tenant details are missing or have changed in Entra ID. The verified domains are claimed ' +
      'anew for the organization within its tenant.',
  })
  @ApiOkResponse({
    type: EntraIntegrationResponseDto,
    description: 'The connection with the re-read details.',
  })
  @ApiErrors(
    EntraNotConnectedError,
    EntraReauthorizationRequiredError,
    TokenDecryptionError,
    GraphRequestError,
    MicrosoftTokenError,
    DomainsClaimedError,
  )
  async refresh(@CurrentPrincipal() principal: Principal): Promise<EntraIntegrationResponseDto> {
    await this.connections.refreshTenantDetails(principal);
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
  @ApiOkResponse({ type: EntraIntegrationResponseDto, description: 'The connection with the new settings.' })
  @ApiErrors(ValidationFailedError, EntraNotConnectedError)
  async updateSettings(
    @CurrentPrincipal() principal: Principal,
    @Body() body: UpdateEntraSettingsDto,
  ): Promise<EntraIntegrationResponseDto> {
    await this.connections.updateSettings(principal, body);
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
  @ApiErrors(EntraNotConnectedError)
  async disconnect(@CurrentPrincipal() principal: Principal): Promise<void> {
    await this.connections.disconnect(principal);
  }
}
