/**
 * The integration status shows a summary of the organization's latest directory sync run. The deprovisioning
 * module owns the runs and publishes SYNC_RUN_CHANGED whenever one changes status (queued, running, awaiting
 * approval, approved, finished); the integrations module keeps its own copy of the latest summary. The contract
 * lives with its consumer so that the dependency stays one-way: deprovisioning imports integrations, never
 * the other way round.
 */
export const SYNC_RUN_CHANGED = 'sync.run_changed';

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

export interface SyncRunChangedEvent {
  organizationId: string;
  summary: SyncSummary;
  /** When the run was created (ISO 8601): the latest run is the latest by (createdAt, runId). */
  runCreatedAt: string;
}
