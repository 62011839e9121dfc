import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** Where an organization's directory sync resumes: the delta link of its last applied round, per tenant. */
@Entity({ name: 'directory_sync_states' })
export class DirectorySyncStateEntity {
  @PrimaryColumn({ name: 'organization_id', type: 'uuid' })
  organizationId: string;

  @PrimaryColumn({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Column({ name: 'delta_link', type: 'text', nullable: true })
  deltaLink: string | null;

  /** Start of the last applied run: users changed here since then are re-checked individually. */
  @Column({ name: 'last_run_started_at', type: 'timestamptz', nullable: true })
  lastRunStartedAt: Date | null;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
