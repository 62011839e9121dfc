import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { AuthFlowsModule } from '../auth-flows/auth-flows.module.js';
import { ProvisioningModule } from '../provisioning/provisioning.module.js';
import { RateLimitsModule } from '../rate-limits/rate-limits.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { AuthController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { InvitationChoiceController } from './invitation-choice.controller.js';
import { InvitationChoicesRepository } from './invitation-choices.repository.js';

/** "Continue with Microsoft" (with the organization choice when several invited the address) and sign-out. */
@Module({
  imports: [AuditModule, AuthFlowsModule, ProvisioningModule, RateLimitsModule, SessionsModule],
  controllers: [AuthController, InvitationChoiceController],
  providers: [AuthService, InvitationChoicesRepository],
})
export class AuthModule {}
