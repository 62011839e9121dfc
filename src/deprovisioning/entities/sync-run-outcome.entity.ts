import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const SYNC_OUTCOMES = ['deactivated', 'planned', 'already_deactivated', 'skipped', 'error'] as const;
export type SyncOutcome = (typeof SYNC_OUTCOMES)[number];
export const DEACTIVATION_REASONS = ['entra_account_disabled', 'entra_account_deleted'] as const;
export type DeactivationReason = (typeof DEACTIVATION_REASONS)[number];

/** What a run did (or plans to do) about one linked user. Only noteworthy users get a row. */
@Entity({ name: 'sync_run_outcomes' })
@Index('sync_run_outcomes_run_idx', ['runId', 'id'])
export class SyncRunOutcomeEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id: string;

  @Column({ name: 'run_id', type: 'uuid' })
  runId: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @Column({ name: 'object_id', type: 'uuid' })
  objectId: string;

  @Column({ type: 'enum', enum: SYNC_OUTCOMES, enumName: 'sync_outcome' })
  outcome: SyncOutcome;

  @Column({ type: 'enum', enum: DEACTIVATION_REASONS, enumName: 'deactivation_reason' })
  reason: DeactivationReason;

  @Column({ type: 'text', nullable: true })
  detail: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
