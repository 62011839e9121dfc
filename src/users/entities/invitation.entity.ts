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
import { ROLES, type Role } from './user.entity.js';

export const INVITATION_STATUSES = ['pending', 'accepted', 'revoked', 'expired'] as const;
export type InvitationStatus = (typeof INVITATION_STATUSES)[number];

/**
 * An invitation to join an organization, accepted at the first Microsoft sign-in whose verified address
 * matches. At most one pending invitation per address and organization (partial unique index).
 */
@Entity({ name: 'invitations' })
@Index('invitations_pending_email_key', ['organizationId', 'email'], {
  unique: true,
  where: `"status" = 'pending'`,
})
@Index('invitations_email_idx', ['email'])
export class InvitationEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId: string;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'organization_id' })
  organization?: Relation<OrganizationEntity>;

  /** Lower-cased. */
  @Column({ type: 'text' })
  email: string;

  @Column({ type: 'enum', enum: ROLES, enumName: 'user_role' })
  role: Role;

  @Column({ type: 'enum', enum: INVITATION_STATUSES, enumName: 'invitation_status', default: 'pending' })
  status: InvitationStatus;

  @Column({ name: 'invited_by_user_id', type: 'uuid', nullable: true })
  invitedByUserId: string | null;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'accepted_by_user_id', type: 'uuid', nullable: true })
  acceptedByUserId: string | null;

  @Column({ name: 'ended_at', type: 'timestamptz', nullable: true })
  endedAt: Date | null;

  // Millisecond precision, as in JavaScript dates, so pagination cursors compare exactly.
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;
}
