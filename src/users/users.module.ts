import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { EventsModule } from '../events/events.module.js';
import { OrganizationsModule } from '../organizations/organizations.module.js';
import { InvitationsController } from './invitations.controller.js';
import { InvitationsRepository } from './invitations.repository.js';
import { InvitationsService } from './invitations.service.js';
import { MeController } from './me.controller.js';
import { UsersController } from './users.controller.js';
import { UsersRepository } from './users.repository.js';
import { UsersService } from './users.service.js';

@Module({
  imports: [AuditModule, EventsModule, OrganizationsModule],
  controllers: [MeController, UsersController, InvitationsController],
  providers: [UsersRepository, UsersService, InvitationsRepository, InvitationsService],
  exports: [UsersService, InvitationsService],
})
export class UsersModule {}
