import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const ACTOR_TYPES = ['user', 'system', 'api_key'] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

/**
 * One entry of the append-only audit trail (a database trigger refuses UPDATE and DELETE). Ids are plain
 * columns, not foreign keys, so the trail outlives anything it mentions.
 */
@Entity({ name: 'audit_events' })
@Index('audit_events_organization_created_idx', ['organizationId', 'createdAt', 'id'])
export class AuditEventEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'organization_id', type: 'uuid', nullable: true })
  organizationId: string | null;

  @Column({ name: 'actor_type', type: 'enum', enum: ACTOR_TYPES, enumName: 'audit_actor_type' })
  actorType: ActorType;

  @Column({ name: 'actor_id', type: 'uuid', nullable: true })
  actorId: string | null;

  @Column({ type: 'text' })
  action: string;

  @Column({ name: 'target_type', type: 'text', nullable: true })
  targetType: string | null;

  @Column({ name: 'target_id', type: 'text', nullable: true })
  targetId: string | null;

  @Column({ type: 'jsonb', nullable: true })
  before: Record<string, unknown> | null;

  @Column({ type: 'jsonb', nullable: true })
  after: Record<string, unknown> | null;

  @Column({ name: 'request_id', type: 'text', nullable: true })
  requestId: string | null;

  // Millisecond precision, as in JavaScript dates, so pagination cursors compare exactly.
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;
}
