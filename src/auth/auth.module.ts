import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { AuthFlowsModule } from '../auth-flows/auth-flows.module.js';
import { ProvisioningModule } from '../provisioning/provisioning.module.js';
import { RateLimitsModule } from '../rate-limits/rate-limits.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { AuthController } from './auth.controller.js';
import { AuthService } from './auth.service.js';

/** "Continue with Microsoft" and sign-out. */
@Module({
  imports: [AuditModule, AuthFlowsModule, ProvisioningModule, RateLimitsModule, SessionsModule],
  controllers: [AuthController],
  providers: [AuthService],
})
export class AuthModule {}
