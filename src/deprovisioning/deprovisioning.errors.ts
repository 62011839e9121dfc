import { DomainError, defineCodes, defineErrors } from '../common/domain-error.js';

export const DEPROVISIONING_ERRORS = defineErrors({
  SYNC_IN_PROGRESS: {
    kind: 'conflict',
    description: 'A sync of this organization is already queued or running (`runId` names it).',
  },
  DEPROVISIONING_DISABLED: {
    kind: 'conflict',
    description:
      'Auto-deprovisioning is switched off: turn it on in the settings, or run a dry run (?dryRun=true) to preview.',
  },
  SYNC_RUN_NOT_FOUND: { kind: 'not_found', description: 'No such sync run in your organization.' },
  SYNC_RUN_NOT_AWAITING_APPROVAL: {
    kind: 'conflict',
    description: 'Only a run awaiting approval can be approved or rejected.',
  },
});

/** Why a run failed, as `errorCode` on the run record. Nothing is applied when a run fails. */
export const SYNC_RUN_FAILURES = defineCodes('sync_run', {
  ENTRA_NOT_CONNECTED: 'The organization is no longer connected to this tenant.',
  ENTRA_REAUTHORIZATION_REQUIRED:
    'Microsoft no longer accepts the grant: an administrator must connect again.',
  SYNC_NOT_AVAILABLE: 'The connection needs reauthorization or the Enterprise plan.',
  DEPROVISIONING_DISABLED: 'Auto-deprovisioning was switched off before the run started.',
  DIRECTORY_UNAVAILABLE:
    'The directory could not be read completely (Graph failed or timed out); nobody was deactivated.',
  GRAPH_INCOMPLETE: 'Graph ended a delta round without a delta link.',
  INTERRUPTED: 'The service shut down during the run; it ended without finishing.',
  WORKER_LOST: 'The worker running it stopped sending heartbeats (its process died).',
  INTERNAL_ERROR: 'The run failed unexpectedly; nobody was deactivated by its failed step.',
});
export type SyncRunFailureCode = keyof typeof SYNC_RUN_FAILURES;

export class SyncInProgressError extends DomainError {
  static readonly definition = DEPROVISIONING_ERRORS.SYNC_IN_PROGRESS;
  constructor(runId: string) {
    super(SyncInProgressError.definition, 'A sync of this organization is already queued or running.', {
      runId,
    });
  }
}

export class DeprovisioningDisabledError extends DomainError {
  static readonly definition = DEPROVISIONING_ERRORS.DEPROVISIONING_DISABLED;
  constructor() {
    super(DeprovisioningDisabledError.definition);
  }
}

export class SyncRunNotFoundError extends DomainError {
  static readonly definition = DEPROVISIONING_ERRORS.SYNC_RUN_NOT_FOUND;
  constructor() {
    super(SyncRunNotFoundError.definition, 'Sync run not found.');
  }
}

export class SyncRunNotAwaitingApprovalError extends DomainError {
  static readonly definition = DEPROVISIONING_ERRORS.SYNC_RUN_NOT_AWAITING_APPROVAL;
  constructor(status: string) {
    super(
      SyncRunNotAwaitingApprovalError.definition,
      `The run is ${status}; only a run awaiting approval can be approved or rejected.`,
    );
  }
}

/** Why a run failed, recorded on the run; nothing is applied when a run fails. */
export class SyncFailure extends Error {
  constructor(
    readonly code: SyncRunFailureCode,
    message: string = SYNC_RUN_FAILURES[code],
  ) {
    super(message);
    this.name = 'SyncFailure';
  }
}
