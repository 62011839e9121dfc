import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { IntegrationsModule } from '../integrations/integrations.module.js';
import { MicrosoftModule } from '../microsoft/microsoft.module.js';
import { RoleMappingController } from './role-mapping.controller.js';
import { RoleMappingRepository } from './role-mapping.repository.js';
import { RoleMappingService } from './role-mapping.service.js';

@Module({
  imports: [AuditModule, IntegrationsModule, MicrosoftModule],
  controllers: [RoleMappingController],
  providers: [RoleMappingRepository, RoleMappingService],
  exports: [RoleMappingService],
})
export class RoleMappingModule {}
