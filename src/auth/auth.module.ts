import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { AuditModule } from '../audit/audit.module.js';
import { MicrosoftModule } from '../microsoft/microsoft.module.js';
import { OrganizationsModule } from '../organizations/organizations.module.js';
import { ProvisioningModule } from '../provisioning/provisioning.module.js';
import { RateLimitsModule } from '../rate-limits/rate-limits.module.js';
import { UsersModule } from '../users/users.module.js';
import { AuthController } from './auth.controller.js';
import { AuthFlowsModule } from './auth-flows.module.js';
import { AuthService } from './auth.service.js';
import { SessionStrategy } from './session.strategy.js';
import { SessionsModule } from './sessions.module.js';

@Module({
  imports: [
    PassportModule,
    AuditModule,
    AuthFlowsModule,
    MicrosoftModule,
    OrganizationsModule,
    ProvisioningModule,
    RateLimitsModule,
    SessionsModule,
    UsersModule,
  ],
  controllers: [AuthController],
  providers: [AuthService, SessionStrategy],
})
export class AuthModule {}
