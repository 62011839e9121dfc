import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { AuthFlowsModule } from '../auth-flows/auth-flows.module.js';
import { DomainClaimsModule } from '../domain-claims/domain-claims.module.js';
import { EventsModule } from '../events/events.module.js';
import { IntegrationsModule } from '../integrations/integrations.module.js';
import { OrganizationsModule } from '../organizations/organizations.module.js';
import { RateLimitsModule } from '../rate-limits/rate-limits.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { UsersModule } from '../users/users.module.js';
import { AssignmentCallbackController } from './assignment-callback.controller.js';
import { TenantAssignmentController } from './tenant-assignment.controller.js';
import { TenantAssignmentRepository } from './tenant-assignment.repository.js';
import { TenantAssignmentService } from './tenant-assignment.service.js';

@Module({
  imports: [
    AuditModule,
    AuthFlowsModule,
    DomainClaimsModule,
    EventsModule,
    IntegrationsModule,
    OrganizationsModule,
    RateLimitsModule,
    SessionsModule,
    UsersModule,
  ],
  controllers: [TenantAssignmentController, AssignmentCallbackController],
  providers: [TenantAssignmentRepository, TenantAssignmentService],
  exports: [TenantAssignmentService],
})
export class TenantAssignmentModule {}
