import {
  Column,
  CreateDateColumn,
  Entity,
  JoinColumn,
  OneToOne,
  PrimaryColumn,
  type Relation,
  UpdateDateColumn,
} from 'typeorm';
import { OrganizationEntity } from '../../organizations/entities/organization.entity.js';

/** `disabled` is the absence of a row; `suspended` is derived from the plan, never stored. */
export const STORED_TENANT_ASSIGNMENT_STATUSES = ['pending_verification', 'enabled'] as const;
export type StoredTenantAssignmentStatus = (typeof STORED_TENANT_ASSIGNMENT_STATUSES)[number];

/**
 * An organization's tenant assignment: the email domains it publishes within one Microsoft tenant, so that
 * new sign-ins of that tenant on those domains land in it. The domains are also claimed in `domain_claims`
 * (source `tenant_assignment`), which keeps them unique within the tenant.
 */
@Entity({ name: 'tenant_assignments' })
export class TenantAssignmentEntity {
  @PrimaryColumn({ name: 'organization_id', type: 'uuid' })
  organizationId: string;

  @OneToOne(() => OrganizationEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'organization_id' })
  organization?: Relation<OrganizationEntity>;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Column({
    type: 'enum',
    enum: STORED_TENANT_ASSIGNMENT_STATUSES,
    enumName: 'tenant_assignment_status',
    default: 'pending_verification',
  })
  status: StoredTenantAssignmentStatus;

  /** Verified domains, lower-case, in the order the administrator listed them. Empty until verified. */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  domains: string[];

  /** New arrivals become active at once (seat permitting) instead of waiting for an administrator. */
  @Column({ name: 'auto_activate', type: 'boolean', default: false })
  autoActivate: boolean;

  @Column({ name: 'verified_by_name', type: 'text', nullable: true })
  verifiedByName: string | null;

  @Column({ name: 'verified_by_upn', type: 'text', nullable: true })
  verifiedByUpn: string | null;

  /** Which tenant-administrator role the verifying account held (e.g. `Global Administrator`). */
  @Column({ name: 'verified_by_role', type: 'text', nullable: true })
  verifiedByRole: string | null;

  @Column({ name: 'verified_by_user_id', type: 'uuid', nullable: true })
  verifiedByUserId: string | null;

  @Column({ name: 'verified_at', type: 'timestamptz', nullable: true })
  verifiedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
