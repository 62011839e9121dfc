import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { IntegrationsModule } from '../integrations/integrations.module.js';
import { MicrosoftModule } from '../microsoft/microsoft.module.js';
import { UsersModule } from '../users/users.module.js';
import { DeprovisioningController } from './deprovisioning.controller.js';
import { DeprovisioningRepository } from './deprovisioning.repository.js';
import { SyncEngine } from './sync-engine.service.js';
import { SyncRunsService } from './sync-runs.service.js';
import { SyncStateResetListener } from './sync-state-reset.listener.js';
import { SyncScheduler } from './sync.scheduler.js';

@Module({
  imports: [AuditModule, IntegrationsModule, MicrosoftModule, UsersModule],
  controllers: [DeprovisioningController],
  providers: [DeprovisioningRepository, SyncEngine, SyncRunsService, SyncScheduler, SyncStateResetListener],
  exports: [SyncRunsService],
})
export class DeprovisioningModule {}
