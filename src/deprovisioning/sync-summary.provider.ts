import { Injectable } from '@nestjs/common';
import type { SyncSummary, SyncSummaryPort } from '../integrations/sync-summary.port.js';
import { DeprovisioningRepository } from './deprovisioning.repository.js';

/** Gives the integration status its `lastSync`. */
@Injectable()
export class SyncSummaryProvider implements SyncSummaryPort {
  constructor(private readonly repository: DeprovisioningRepository) {}

  async latestSummary(organizationId: string): Promise<SyncSummary | null> {
    const run = await this.repository.findLatestRun(organizationId);
    if (!run) return null;
    return {
      runId: run.id,
      trigger: run.trigger,
      dryRun: run.dryRun,
      status: run.status,
      startedAt: run.startedAt?.toISOString() ?? null,
      finishedAt: run.finishedAt?.toISOString() ?? null,
      deactivated: run.countDeactivated,
      planned: run.countPlanned,
      errorCode: run.errorCode,
    };
  }
}
