/**
 * The integration status shows a summary of the latest directory sync, which the deprovisioning module
 * owns. It provides this port (dependency inversion), so integrations needs no import of its consumer.
 */
export const SYNC_SUMMARY = Symbol('SYNC_SUMMARY');

export interface SyncSummary {
  runId: string;
  trigger: string;
  dryRun: boolean;
  status: string;
  startedAt: string | null;
  finishedAt: string | null;
  deactivated: number;
  planned: number;
  errorCode: string | null;
}

export interface SyncSummaryPort {
  latestSummary(organizationId: string): Promise<SyncSummary | null>;
}
