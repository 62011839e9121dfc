import { Module } from '@nestjs/common';
import { ActivationModule } from '../../activation/activation.module.js';
import { AuditModule } from '../../audit/audit.module.js';
import { OrganizationsModule } from '../../organizations/organizations.module.js';
import { UsersModule } from '../../users/users.module.js';
import { ScimUsersController } from './scim-users.controller.js';
import { ScimUsersRepository } from './scim-users.repository.js';
import { ScimUsersService } from './scim-users.service.js';

/** SCIM Users: `/scim/v2/Users`, the `scim_users` table and its service (JIT sign-in links use it too). */
@Module({
  imports: [ActivationModule, AuditModule, OrganizationsModule, UsersModule],
  controllers: [ScimUsersController],
  providers: [ScimUsersRepository, ScimUsersService],
  exports: [ScimUsersService],
})
export class ScimUsersModule {}
