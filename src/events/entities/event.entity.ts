import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * The transactional outbox: one row per change an integrator cares about, written in the transaction of the
 * change. `seq` orders the feed; `txId` (the writing transaction's id) lets a reader skip rows whose
 * transaction may still be open, so a slow transaction's lower `seq` is never passed by a cursor.
 */
@Entity({ name: 'events' })
@Index('events_organization_seq_idx', ['organizationId', 'seq'])
export class EventEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('events_seq_key', { unique: true })
  @Column({ type: 'bigint', generatedIdentity: 'ALWAYS', generated: 'identity' })
  seq: string;

  /** Set on insert to `pg_current_xact_id()` (see EventsRepository). */
  @Column({ name: 'tx_id', type: 'bigint' })
  txId: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId: string;

  @Column({ type: 'text' })
  type: string;

  @Column({ type: 'jsonb' })
  data: Record<string, unknown>;

  @Index('events_created_at_idx')
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;
}
