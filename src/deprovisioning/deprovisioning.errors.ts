import { DomainError, NotFoundError } from '../common/domain-error.js';

export class SyncInProgressError extends DomainError {
  constructor(runId: string) {
    super('SYNC_IN_PROGRESS', 'conflict', 'A sync of this organization is already queued or running.', {
      runId,
    });
  }
}

export class DeprovisioningDisabledError extends DomainError {
  constructor() {
    super(
      'DEPROVISIONING_DISABLED',
      'conflict',
      'Auto-deprovisioning is switched off: turn it on in the settings, or run a dry run (?dryRun=true) to preview.',
    );
  }
}

export class SyncRunNotFoundError extends NotFoundError {
  constructor() {
    super('Sync run');
  }
}

export class SyncRunNotAwaitingApprovalError extends DomainError {
  constructor(status: string) {
    super(
      'SYNC_RUN_NOT_AWAITING_APPROVAL',
      'conflict',
      `The run is ${status}; only a run awaiting approval can be approved or rejected.`,
    );
  }
}

/** Why a run failed, recorded on the run; nothing is applied when a run fails. */
export class SyncFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'SyncFailure';
  }
}
