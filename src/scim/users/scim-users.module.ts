import { Module } from '@nestjs/common';
import { ActivationModule } from '../../activation/activation.module.js';
import { AuditModule } from '../../audit/audit.module.js';
import { UsersModule } from '../../users/users.module.js';
import { ScimUsersRepository } from './scim-users.repository.js';
import { ScimUsersService } from './scim-users.service.js';

/** SCIM Users: the `scim_users` table and its service (the controller lives under the SCIM edge). */
@Module({
  imports: [ActivationModule, AuditModule, UsersModule],
  providers: [ScimUsersRepository, ScimUsersService],
  exports: [ScimUsersService],
})
export class ScimUsersModule {}
