import { Module } from '@nestjs/common';
import { ActivationModule } from '../activation/activation.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { DomainClaimsModule } from '../domain-claims/domain-claims.module.js';
import { IntegrationsModule } from '../integrations/integrations.module.js';
import { OrganizationsModule } from '../organizations/organizations.module.js';
import { RoleMappingModule } from '../role-mapping/role-mapping.module.js';
import { ScimUsersModule } from '../scim/users/scim-users.module.js';
import { TenantAssignmentModule } from '../tenant-assignment/tenant-assignment.module.js';
import { UsersModule } from '../users/users.module.js';
import { ProvisioningService } from './provisioning.service.js';

@Module({
  imports: [
    ActivationModule,
    AuditModule,
    DomainClaimsModule,
    IntegrationsModule,
    OrganizationsModule,
    RoleMappingModule,
    ScimUsersModule,
    TenantAssignmentModule,
    UsersModule,
  ],
  providers: [ProvisioningService],
  exports: [ProvisioningService],
})
export class ProvisioningModule {}
