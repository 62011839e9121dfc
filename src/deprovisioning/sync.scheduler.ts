import { Injectable, Logger } from '@nestjs/common';
import { Cron } from '@nestjs/schedule';
import { SyncRunsService } from './sync-runs.service.js';

/** The nightly trigger. Every replica fires it; the schedule slot makes it one run per organization. */
@Injectable()
export class SyncScheduler {
  private readonly logger = new Logger(SyncScheduler.name);

  constructor(private readonly runs: SyncRunsService) {}

  @Cron('0 3 * * *', { name: 'entra-directory-sync', timeZone: 'UTC' })
  async nightly(): Promise<void> {
    const slot = `${new Date().toISOString().slice(0, 10)}T03:00Z`;
    const queued = await this.runs.enqueueScheduled(slot);
    this.logger.log(`nightly directory sync: ${queued} organization(s) queued for ${slot}`);
  }
}
