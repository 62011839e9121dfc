import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { AuthFlowsModule } from '../auth-flows/auth-flows.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { MicrosoftModule } from '../microsoft/microsoft.module.js';
import { OrganizationsModule } from '../organizations/organizations.module.js';
import { RateLimitsModule } from '../rate-limits/rate-limits.module.js';
import { UsersModule } from '../users/users.module.js';
import { DomainClaimsModule } from '../domain-claims/domain-claims.module.js';
import { ConnectCallbackController } from './connect-callback.controller.js';
import { IntegrationsController } from './integrations.controller.js';
import { IntegrationsRepository } from './integrations.repository.js';
import { SyncSummaryListener } from './sync-summary.listener.js';
import { ConnectFlowService } from './connect-flow.service.js';
import { EntraConnectionService } from './entra-connection.service.js';
import { resolveKeyring, TokenCipher } from './token-cipher.js';
import { IntegrationStatusService } from './integration-status.service.js';
import { TokenVault } from './token-vault.service.js';

@Module({
  imports: [
    AuditModule,
    EventsModule,
    AuthFlowsModule,
    DomainClaimsModule,
    SessionsModule,
    MicrosoftModule,
    OrganizationsModule,
    RateLimitsModule,
    UsersModule,
  ],
  controllers: [IntegrationsController, ConnectCallbackController],
  providers: [
    IntegrationsRepository,
    IntegrationStatusService,
    TokenVault,
    EntraConnectionService,
    ConnectFlowService,
    SyncSummaryListener,
    {
      provide: TokenCipher,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new TokenCipher(resolveKeyring(config)),
    },
  ],
  // Other modules read the connection; the vault and the connect flow stay inside.
  exports: [EntraConnectionService],
})
export class IntegrationsModule {}
