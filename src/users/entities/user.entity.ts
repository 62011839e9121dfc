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

import {
  PENDING_REASONS,
  type PendingReason,
  ROLE_SOURCES,
  ROLES,
  type Role,
  type RoleSource,
  USER_STATUSES,
  type UserStatus,
} from '../users.types.js';

export {
  PENDING_REASONS,
  type PendingReason,
  ROLE_SOURCES,
  ROLES,
  type Role,
  type RoleSource,
  USER_STATUSES,
  type UserStatus,
};

@Entity({ name: 'users' })
// Not unique: an address is contact data, not a key (see README, "Who is who"). Sign-in, invitations and SCIM
// adoption look users up by it.
@Index('users_organization_email_idx', ['organizationId', 'email'])
// The users list's order (and keyset cursor) within an organization, with and without a status filter. The first
// also carries what `?search=` tests (INCLUDE email, display_name_lower), so a search walks the order without
// reading the table; TypeORM cannot express INCLUDE, so the migration owns it.
@Index('users_organization_created_at_id_idx', { synchronize: false })
@Index('users_organization_status_created_at_id_idx', ['organizationId', 'status', 'createdAt', 'id'])
// Trigram (pg_trgm GIN) indexes for `?search=`, on `email` and `display_name_lower` exactly as the list's LIKE
// predicates are written; TypeORM cannot express them, so the migration owns them.
@Index('users_email_trgm_idx', { synchronize: false })
@Index('users_display_name_lower_trgm_idx', { synchronize: false })
// The seat queue is read oldest first, per organization.
@Index('users_seat_queue_idx', ['organizationId', 'pendingReason', 'pendingSince'])
export class UserEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId: string;

  // Deleting an organization must never silently take its users (and what they own) with it.
  @ManyToOne(() => OrganizationEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'organization_id' })
  organization?: Relation<OrganizationEntity>;

  /** Stored lower-cased, so uniqueness and look-ups are case-insensitive. */
  @Column({ type: 'text' })
  email: string;

  @Column({ name: 'display_name', type: 'text' })
  displayName: string;

  /**
   * `lower(display_name)`, kept by PostgreSQL: what `?search=` tests, stored so a search reads it from the list's
   * order index instead of lower-casing every name it walks past. Never written, read or answered by the service.
   */
  @Column({
    name: 'display_name_lower',
    type: 'text',
    generatedType: 'STORED',
    asExpression: 'lower(display_name)',
    select: false,
    insert: false,
    update: false,
  })
  displayNameLower?: string;

  @Column({ type: 'enum', enum: ROLES, enumName: 'user_role', default: 'employee' })
  role: Role;

  @Column({
    name: 'role_source',
    type: 'enum',
    enum: ROLE_SOURCES,
    enumName: 'user_role_source',
    default: 'default',
  })
  roleSource: RoleSource;

  /** The Entra group whose mapping decided the role (when `roleSource` is `group_mapping`). */
  @Column({ name: 'role_source_group_id', type: 'uuid', nullable: true })
  roleSourceGroupId: string | null;

  @Column({ name: 'role_source_group_name', type: 'text', nullable: true })
  roleSourceGroupName: string | null;

  @Column({ type: 'enum', enum: USER_STATUSES, enumName: 'user_status', default: 'active' })
  status: UserStatus;

  /** Set exactly while `status` is `pending`. */
  @Column({
    name: 'pending_reason',
    type: 'enum',
    enum: PENDING_REASONS,
    enumName: 'user_pending_reason',
    nullable: true,
  })
  pendingReason: PendingReason | null;

  /** When the user became pending: the seat queue's order (oldest first, then id). */
  @Column({ name: 'pending_since', type: 'timestamptz', precision: 3, nullable: true })
  pendingSince: Date | null;

  @Column({ name: 'deactivation_reason', type: 'text', nullable: true })
  deactivationReason: string | null;

  @Column({ name: 'deactivated_at', type: 'timestamptz', nullable: true })
  deactivatedAt: Date | null;

  @Column({ name: 'last_sign_in_at', type: 'timestamptz', nullable: true })
  lastSignInAt: Date | null;

  // Millisecond precision, as in JavaScript dates, so pagination cursors compare exactly.
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
