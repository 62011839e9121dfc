import { Global, Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { IntegrationsModule } from '../integrations/integrations.module.js';
import { SYNC_SUMMARY } from '../integrations/sync-summary.port.js';
import { MicrosoftModule } from '../microsoft/microsoft.module.js';
import { UsersModule } from '../users/users.module.js';
import { DeprovisioningController } from './deprovisioning.controller.js';
import { DeprovisioningRepository } from './deprovisioning.repository.js';
import { SyncEngine } from './sync-engine.service.js';
import { SyncRunsService } from './sync-runs.service.js';
import { SyncScheduler } from './sync.scheduler.js';
import { SyncSummaryProvider } from './sync-summary.provider.js';

// Global only to offer SYNC_SUMMARY to the integrations module without that module importing this one.
@Global()
@Module({
  imports: [AuditModule, IntegrationsModule, MicrosoftModule, UsersModule],
  controllers: [DeprovisioningController],
  providers: [
    DeprovisioningRepository,
    SyncEngine,
    SyncRunsService,
    SyncScheduler,
    { provide: SYNC_SUMMARY, useClass: SyncSummaryProvider },
  ],
  exports: [SYNC_SUMMARY, SyncRunsService],
})
export class DeprovisioningModule {}
