import { EmulatorInputError } from './errors.js';

/**
 * The state of the simulated Entra provisioning service: one job per application and Tenant URL, with the
 * job's own cache of what it provisioned (Entra's "scoped" cache — objects it never created or matched are
 * never touched), the escrow of failed objects retried next cycle, and a log of what it sent and got.
 * Plain data, so the store saves it with the rest of the directory; the cycles run in `provisioning-service.ts`.
 */

/** The attributes the job maps from a directory user (Entra's default mappings for a SCIM app). */
export interface UserAttributes {
  userName: string;
  active: boolean;
  displayName: string;
  givenName: string | null;
  familyName: string | null;
  /** emails[type eq "work"].value */
  email: string | null;
  externalId: string;
}

export interface GroupAttributes {
  displayName: string;
  externalId: string;
}

export interface ProvisionedUser {
  sourceId: string;
  /** The target's `id`. */
  scimId: string;
  /** What the target holds as far as the job knows: what it last sent successfully, or read when matching. */
  sent: UserAttributes;
}

export interface ProvisionedGroup {
  sourceId: string;
  scimId: string;
  sent: GroupAttributes;
  /** SCIM ids of the users the job made members. */
  members: string[];
}

export interface EscrowEntry {
  objectType: 'User' | 'Group';
  sourceId: string;
  /** Failed attempts so far; the object is retried in every following cycle. */
  attempts: number;
  firstFailedAt: string;
  lastFailedAt: string;
  lastError: string;
}

/** One request the job sent and what came back (status 0: no answer). */
export interface Exchange {
  cycle: number;
  at: string;
  method: string;
  url: string;
  requestBody?: unknown;
  status: number;
  responseBody?: unknown;
  durationMs: number;
  /** The directory object it was about. */
  sourceId?: string;
}

export interface CycleReport {
  number: number;
  kind: 'test-connection' | 'initial' | 'incremental';
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  requests: number;
  usersCreated: number;
  usersMatched: number;
  usersUpdated: number;
  usersDisabled: number;
  usersDeleted: number;
  groupsCreated: number;
  groupsMatched: number;
  groupsUpdated: number;
  groupsDeleted: number;
  membersAdded: number;
  membersRemoved: number;
  /** Objects that failed in this cycle (now in escrow). */
  failed: number;
  /** Objects in escrow after the cycle. */
  escrowed: number;
  /** Test connection only: whether the target answered as Entra requires. */
  ok?: boolean;
  error?: string;
}

export interface ProvisioningJobConfig {
  tenantId: string;
  clientId: string;
  /** As the admin pasted it, query included (`?aadOptscim062020` switches to the compliant request forms). */
  tenantUrl: string;
  token: string;
  /** Entra's default maps mailNickname to externalId; many tenants map objectId instead. */
  userExternalId: 'mailNickname' | 'objectId';
  /** Requests in flight at once within a cycle's user phase. */
  concurrency: number;
}

export interface ProvisioningJobState {
  id: string;
  config: ProvisioningJobConfig;
  /** "Provisioning Status": paused jobs run no cycles and keep their cache. */
  status: 'on' | 'off';
  createdAt: string;
  /** Cycles run so far (test connections not counted). */
  cycles: number;
  lastCycle: CycleReport | null;
  users: Record<string, ProvisionedUser>;
  groups: Record<string, ProvisionedGroup>;
  escrow: EscrowEntry[];
  /** The latest exchanges, oldest first (at most LOG_LIMIT). */
  log: Exchange[];
}

export const LOG_LIMIT = 2000;

export type NewProvisioningJob = Pick<
  ProvisioningJobConfig,
  'tenantId' | 'clientId' | 'tenantUrl' | 'token'
> &
  Partial<Pick<ProvisioningJobConfig, 'userExternalId' | 'concurrency'>>;

/** True when the Tenant URL asks for the SCIM-compliant request forms. */
export function isCompliant(tenantUrl: string): boolean {
  return new URL(tenantUrl).searchParams.has('aadOptscim062020');
}

export class ProvisioningJobs {
  private readonly jobs = new Map<string, ProvisioningJobState>();

  constructor(saved: ProvisioningJobState[] = []) {
    for (const job of saved) this.jobs.set(job.id, job);
  }

  get all(): ProvisioningJobState[] {
    return [...this.jobs.values()];
  }

  create(input: NewProvisioningJob, now: Date): ProvisioningJobState {
    let url: URL;
    try {
      url = new URL(input.tenantUrl);
    } catch {
      throw new EmulatorInputError('tenantUrl must be an absolute URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new EmulatorInputError('tenantUrl must be http or https');
    }
    if (!input.token) throw new EmulatorInputError('token is required');
    const concurrency = input.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
      throw new EmulatorInputError('concurrency must be a whole number from 1 to 64');
    }
    const userExternalId = input.userExternalId ?? 'mailNickname';
    if (userExternalId !== 'mailNickname' && userExternalId !== 'objectId') {
      throw new EmulatorInputError('userExternalId must be mailNickname or objectId');
    }
    const job: ProvisioningJobState = {
      id: crypto.randomUUID(),
      config: {
        tenantId: input.tenantId,
        clientId: input.clientId,
        tenantUrl: input.tenantUrl,
        token: input.token,
        userExternalId,
        concurrency,
      },
      status: 'on',
      createdAt: now.toISOString(),
      cycles: 0,
      lastCycle: null,
      users: {},
      groups: {},
      escrow: [],
      log: [],
    };
    this.jobs.set(job.id, job);
    return job;
  }

  find(id: string): ProvisioningJobState | undefined {
    return this.jobs.get(id);
  }

  require(id: string): ProvisioningJobState {
    const job = this.find(id);
    if (!job) throw new EmulatorInputError(`unknown provisioning job '${id}'`);
    return job;
  }

  remove(id: string): boolean {
    return this.jobs.delete(id);
  }
}

/** What the control API shows of a job: everything but the token. */
export function describeJob(job: ProvisioningJobState, options: { log?: boolean } = {}) {
  const { token, ...config } = job.config;
  return {
    id: job.id,
    status: job.status,
    createdAt: job.createdAt,
    config: { ...config, tokenPrefix: token.slice(0, 8), compliant: isCompliant(job.config.tenantUrl) },
    cycles: job.cycles,
    lastCycle: job.lastCycle,
    users: Object.values(job.users),
    groups: Object.values(job.groups),
    escrow: job.escrow,
    ...(options.log ? { log: job.log } : {}),
  };
}
