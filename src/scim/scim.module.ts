import { type MiddlewareConsumer, Module, type NestModule, RequestMethod } from '@nestjs/common';
import { APP_FILTER, DiscoveryModule } from '@nestjs/core';
import { AuditModule } from '../audit/audit.module.js';
import { EventsModule } from '../events/events.module.js';
import { OrganizationsModule } from '../organizations/organizations.module.js';
import { RoleMappingModule } from '../role-mapping/role-mapping.module.js';
import { UsersModule } from '../users/users.module.js';
import { ScimAccessRepository } from './access/scim-access.repository.js';
import { ScimAccessService } from './access/scim-access.service.js';
import { ScimDiscoveryController } from './access/scim-discovery.controller.js';
import { ScimDiscoveryService } from './access/scim-discovery.service.js';
import { scimEdge } from './access/scim-edge.js';
import { ScimExceptionFilter } from './access/scim-exception.filter.js';
import { ScimManagementController } from './access/scim-management.controller.js';
import { ScimRequestLogRepository } from './access/scim-request-log.repository.js';
import { ScimRequestLogService } from './access/scim-request-log.service.js';
import { ScimResourceCounts } from './access/scim-resource-counts.js';
import { ScimSelfTestService } from './access/scim-self-test.service.js';
import { ScimStatusService } from './access/scim-status.service.js';
import { ScimTokenStrategy } from './access/scim-token.strategy.js';
import { ScimGroupsController } from './groups/scim-groups.controller.js';
import { ScimGroupsRepository } from './groups/scim-groups.repository.js';
import { ScimGroupsService } from './groups/scim-groups.service.js';
import { SCIM_USERS_COUNT_PROVIDER } from './users/scim-users-count.provider.js';
import { ScimUsersModule } from './users/scim-users.module.js';

/**
 * SCIM 2.0 (`/scim/v2`), the only code that speaks SCIM: access (tokens, the `scim_token` strategy, the edge and
 * its error schema, discovery, the provisioning log, the management REST API), users and groups.
 */
@Module({
  imports: [
    DiscoveryModule,
    AuditModule,
    EventsModule,
    OrganizationsModule,
    ScimUsersModule,
    UsersModule,
    RoleMappingModule,
  ],
  controllers: [ScimManagementController, ScimDiscoveryController, ScimGroupsController],
  providers: [
    ScimAccessRepository,
    ScimAccessService,
    ScimDiscoveryService,
    ScimRequestLogRepository,
    ScimRequestLogService,
    ScimTokenStrategy,
    ScimResourceCounts,
    SCIM_USERS_COUNT_PROVIDER,
    ScimStatusService,
    ScimGroupsRepository,
    ScimGroupsService,
    ScimSelfTestService,
    // Registered after the app's problem-details filter, so Nest asks this one first (see its comment).
    { provide: APP_FILTER, useClass: ScimExceptionFilter },
  ],
})
export class ScimModule implements NestModule {
  constructor(
    private readonly log: ScimRequestLogService,
    private readonly access: ScimAccessService,
  ) {}

  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(scimEdge(this.log, (secret) => this.access.identify(secret)))
      .forRoutes(
        { path: 'scim/v2', method: RequestMethod.ALL },
        { path: 'scim/v2/*path', method: RequestMethod.ALL },
      );
  }
}
