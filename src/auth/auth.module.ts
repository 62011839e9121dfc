import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { AuditModule } from '../audit/audit.module.js';
import { MicrosoftModule } from '../microsoft/microsoft.module.js';
import { OrganizationsModule } from '../organizations/organizations.module.js';
import { ProvisioningModule } from '../provisioning/provisioning.module.js';
import { UsersModule } from '../users/users.module.js';
import { AuthController } from './auth.controller.js';
import { AuthRepository } from './auth.repository.js';
import { AuthService } from './auth.service.js';
import { SessionStrategy } from './session.strategy.js';
import { SessionsService } from './sessions.service.js';

@Module({
  imports: [
    PassportModule,
    AuditModule,
    MicrosoftModule,
    OrganizationsModule,
    ProvisioningModule,
    UsersModule,
  ],
  controllers: [AuthController],
  providers: [AuthRepository, AuthService, SessionsService, SessionStrategy],
  exports: [SessionsService],
})
export class AuthModule {}
