import { Module } from '@nestjs/common';
import { OrganizationsModule } from '../organizations/organizations.module.js';
import { UsersModule } from '../users/users.module.js';
import { ActivationController } from './activation.controller.js';
import { ActivationService } from './activation.service.js';

/** The one activation policy (active or pending with a reason) and the seat queue. */
@Module({
  imports: [OrganizationsModule, UsersModule],
  controllers: [ActivationController],
  providers: [ActivationService],
  exports: [ActivationService],
})
export class ActivationModule {}
