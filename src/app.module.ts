import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ActivationModule } from './activation/activation.module.js';
import { ApiKeysModule } from './api-keys/api-keys.module.js';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { AuthFlowsModule } from './auth-flows/auth-flows.module.js';
import { AuthenticatorsModule } from './common/authenticators.js';
import { AuthKindGuard, PlanGuard, RolesGuard, ScopesGuard } from './common/guards.js';
import { ProblemDetailsFilter } from './common/problem-details.filter.js';
import type { AppConfig } from './config/config.js';
import { ConfigModule } from './config/config.module.js';
import { dataSourceOptions } from './app.data-source.js';
import { usePreparedStatements } from './database/prepared-statements.js';
import { TransactionsModule } from './database/transactions.module.js';
import { DomainClaimsModule } from './domain-claims/domain-claims.module.js';
import { DeprovisioningModule } from './deprovisioning/deprovisioning.module.js';
import { EventsModule } from './events/events.module.js';
import { HealthModule } from './health/health.module.js';
import { IntegrationsModule } from './integrations/integrations.module.js';
import { OrganizationsModule } from './organizations/organizations.module.js';
import { PagesModule } from './pages/pages.module.js';
import { ProvisioningModule } from './provisioning/provisioning.module.js';
import { RoleMappingModule } from './role-mapping/role-mapping.module.js';
import { ScimModule } from './scim/scim.module.js';
import { SessionsModule } from './sessions/sessions.module.js';
import { TenantAssignmentModule } from './tenant-assignment/tenant-assignment.module.js';
import { UsersModule } from './users/users.module.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';
// from './users/users.module.js';

@Module({})
export class AppModule {
  /** `databaseUrl` is resolved by the caller (it may be the embedded PostgreSQL started just before). */
  static forRoot(config: AppConfig, databaseUrl: string): DynamicModule {
    usePreparedStatements(config.databasePreparedStatements);
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        AuthenticatorsModule,
        TypeOrmModule.forRoot({
          ...dataSourceOptions(databaseUrl, config.databaseTimeouts),
          retryAttempts: 3,
          retryDelay: 1000,
        }),
        TransactionsModule,
        EventEmitterModule.forRoot(),
        ScheduleModule.forRoot(),
        AuditModule,
        EventsModule,
        OrganizationsModule,
        UsersModule,
        ActivationModule,
        SessionsModule,
        ApiKeysModule,
        AuthFlowsModule,
        DomainClaimsModule,
        TenantAssignmentModule,
        ProvisioningModule,
        AuthModule,
        IntegrationsModule,
        RoleMappingModule,
        DeprovisioningModule,
        WebhooksModule,
        ScimModule,
        HealthModule,
        PagesModule.forRoot(config),
      ],
      providers: [
        // Order matters: authenticate, then check a key's scopes, then the role, then the plan.
        { provide: APP_GUARD, useClass: AuthKindGuard },
        { provide: APP_GUARD, useClass: ScopesGuard },
        { provide: APP_GUARD, useClass: RolesGuard },
        { provide: APP_GUARD, useClass: PlanGuard },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
      ],
    };
  }
}
