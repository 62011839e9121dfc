import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  type Relation,
} from 'typeorm';
import { OrganizationEntity } from '../../organizations/entities/organization.entity.js';

export const SYNC_TRIGGERS = ['schedule', 'manual'] as const;
export type SyncTrigger = (typeof SYNC_TRIGGERS)[number];
export const SYNC_STATUSES = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'awaiting_approval',
  'rejected',
] as const;
export type SyncStatus = (typeof SYNC_STATUSES)[number];
export const SYNC_MODES = ['full', 'incremental'] as const;
export type SyncMode = (typeof SYNC_MODES)[number];

/**
 * One directory sync of one organization. The table is also the job queue: a partial unique index allows
 * one queued-or-running run per organization, and workers claim queued runs with FOR UPDATE SKIP LOCKED.
 */
@Entity({ name: 'sync_runs' })
@Index('sync_runs_one_active_per_organization', ['organizationId'], {
  unique: true,
  where: `"status" IN ('queued', 'running')`,
})
@Index('sync_runs_one_per_schedule_slot', ['organizationId', 'scheduleSlot'], {
  unique: true,
  where: '"schedule_slot" IS NOT NULL',
})
@Index('sync_runs_organization_created_idx', ['organizationId', 'createdAt', 'id'])
@Index('sync_runs_status_idx', ['status'])
export class SyncRunEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId: string;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'organization_id' })
  organization?: Relation<OrganizationEntity>;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Column({ type: 'enum', enum: SYNC_TRIGGERS, enumName: 'sync_trigger' })
  trigger: SyncTrigger;

  /** For scheduled runs: the slot (e.g. `2026-11-22T03:00Z`) so replicas firing together create one run. */
  @Column({ name: 'schedule_slot', type: 'text', nullable: true })
  scheduleSlot: string | null;

  @Column({ name: 'dry_run', type: 'boolean', default: false })
  dryRun: boolean;

  @Column({ type: 'enum', enum: SYNC_STATUSES, enumName: 'sync_status', default: 'queued' })
  status: SyncStatus;

  @Column({ type: 'enum', enum: SYNC_MODES, enumName: 'sync_mode', nullable: true })
  mode: SyncMode | null;

  @Column({ name: 'requested_by_user_id', type: 'uuid', nullable: true })
  requestedByUserId: string | null;

  @Column({ name: 'worker_id', type: 'text', nullable: true })
  workerId: string | null;

  @Column({ name: 'heartbeat_at', type: 'timestamptz', nullable: true })
  heartbeatAt: Date | null;

  /** Directory users examined so far, and in all when known. */
  @Column({ name: 'progress_checked', type: 'integer', default: 0 })
  progressChecked: number;

  @Column({ name: 'progress_total', type: 'integer', nullable: true })
  progressTotal: number | null;

  @Column({ name: 'count_checked', type: 'integer', default: 0 })
  countChecked: number;

  @Column({ name: 'count_deactivated', type: 'integer', default: 0 })
  countDeactivated: number;

  @Column({ name: 'count_already_deactivated', type: 'integer', default: 0 })
  countAlreadyDeactivated: number;

  @Column({ name: 'count_not_linked', type: 'integer', default: 0 })
  countNotLinked: number;

  @Column({ name: 'count_errors', type: 'integer', default: 0 })
  countErrors: number;

  /** Deactivations the run planned (applied, or waiting for approval, or what a dry run would do). */
  @Column({ name: 'count_planned', type: 'integer', default: 0 })
  countPlanned: number;

  @Column({ name: 'threshold_limit', type: 'integer', nullable: true })
  thresholdLimit: number | null;

  /** Set when the run deactivated the organization's last active owner. */
  @Column({ name: 'last_owner_deactivated', type: 'boolean', default: false })
  lastOwnerDeactivated: boolean;

  /** Where the next incremental round starts, once this run's plan is applied. */
  @Column({ name: 'delta_link', type: 'text', nullable: true })
  deltaLink: string | null;

  @Column({ name: 'error_code', type: 'text', nullable: true })
  errorCode: string | null;

  @Column({ name: 'error_message', type: 'text', nullable: true })
  errorMessage: string | null;

  @Column({ name: 'decided_by_user_id', type: 'uuid', nullable: true })
  decidedByUserId: string | null;

  /** Set when the held-back plan was approved: the queued run then applies its stored plan. */
  @Column({ name: 'approved_at', type: 'timestamptz', nullable: true })
  approvedAt: Date | null;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;

  // Millisecond precision, as in JavaScript dates, so pagination cursors compare exactly.
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;
}
