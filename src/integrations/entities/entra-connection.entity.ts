import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  type Relation,
  UpdateDateColumn,
} from 'typeorm';
import { OrganizationEntity } from '../../organizations/entities/organization.entity.js';
import type { SyncSummary } from '../sync-summary.port.js';

export const CONNECTION_STATUSES = ['connected', 'reauthorization_required'] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

/** A sync summary with the creation time of its run, which orders the summaries of different runs. */
export type StoredSyncSummary = SyncSummary & { runCreatedAt: string };

/**
 * An organization's link to its Entra tenant. One per organization, and one organization per tenant (unique
 * `tenant_id`). Tokens are stored only as AES-256-GCM ciphertext (see TokenCipher). The tenant's verified
 * domains are domain claims of the organization (source `entra_verified_domain`), not columns here.
 */
@Entity({ name: 'entra_connections' })
export class EntraConnectionEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('entra_connections_organization_key', { unique: true })
  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId: string;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'organization_id' })
  organization?: Relation<OrganizationEntity>;

  @Index('entra_connections_tenant_key', { unique: true })
  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Column({ name: 'tenant_name', type: 'text', nullable: true })
  tenantName: string | null;

  @Column({
    type: 'enum',
    enum: CONNECTION_STATUSES,
    enumName: 'entra_connection_status',
    default: 'connected',
  })
  status: ConnectionStatus;

  @Column({ name: 'refresh_token_ciphertext', type: 'text', nullable: true })
  refreshTokenCiphertext: string | null;

  @Column({ name: 'access_token_ciphertext', type: 'text', nullable: true })
  accessTokenCiphertext: string | null;

  @Column({ name: 'access_token_expires_at', type: 'timestamptz', nullable: true })
  accessTokenExpiresAt: Date | null;

  @Column({ name: 'granted_scopes', type: 'text', array: true, default: () => "'{}'" })
  grantedScopes: string[];

  @Column({ name: 'connected_at', type: 'timestamptz' })
  connectedAt: Date;

  @Column({ name: 'connected_by_user_id', type: 'uuid', nullable: true })
  connectedByUserId: string | null;

  @Column({ name: 'auto_provision_users', type: 'boolean', default: false })
  autoProvisionUsers: boolean;

  @Column({ name: 'auto_deprovision_sync', type: 'boolean', default: false })
  autoDeprovisionSync: boolean;

  @Column({ name: 'group_role_mapping', type: 'boolean', default: false })
  groupRoleMapping: boolean;

  /** A sync run deactivating more than max(count, percent % of linked active users) waits for approval. */
  @Column({ name: 'deprovision_threshold_count', type: 'integer', default: 25 })
  deprovisionThresholdCount: number;

  @Column({ name: 'deprovision_threshold_percent', type: 'integer', default: 10 })
  deprovisionThresholdPercent: number;

  /** The latest directory sync run, as last published by the sync (SYNC_RUN_CHANGED); null before the first. */
  @Column({ name: 'last_sync', type: 'jsonb', nullable: true })
  lastSync: StoredSyncSummary | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
