import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { IntegrationsRepository } from './integrations.repository.js';
import { SYNC_RUN_CHANGED, type SyncRunChangedEvent } from './sync-summary.port.js';

/** Keeps the integration's own copy of its latest sync summary, from the runs' events. */
@Injectable()
export class SyncSummaryListener {
  constructor(private readonly repository: IntegrationsRepository) {}

  @OnEvent(SYNC_RUN_CHANGED, { promisify: true, suppressErrors: false })
  async onSyncRunChanged(event: SyncRunChangedEvent): Promise<void> {
    await this.repository.recordSyncSummary(event.organizationId, {
      ...event.summary,
      runCreatedAt: event.runCreatedAt,
    });
  }
}
