import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  type Relation,
  UpdateDateColumn,
} from 'typeorm';
import { OrganizationEntity } from '../../../organizations/entities/organization.entity.js';
import { UserEntity } from '../../../users/entities/user.entity.js';

/**
 * The SCIM side of a product user: what the directory sent, beside the product's `users` row it manages (one
 * row per user; the SCIM `id` is the user's id). `userName` is unique in the organization among every row, kept
 * after a SCIM DELETE (`deleted_at`), so a later POST of that `userName` brings back the same product user.
 */
@Entity({ name: 'scim_users' })
// Value first: the same index answers an organization's `userName eq` / `externalId eq` and the first Microsoft
// sign-in's look-up across organizations (a JIT link to a SCIM-created user).
@Index('scim_users_user_name_organization_key', ['userNameLower', 'organizationId'], { unique: true })
@Index('scim_users_external_id_organization_idx', ['externalId', 'organizationId'])
@Index('scim_users_organization_display_name_idx', ['organizationId', 'displayNameLower'])
@Index('scim_users_organization_updated_at_idx', ['organizationId', 'updatedAt'])
// startIndex paging walks (created_at, user_id): immutable, so a page never shifts when rows change.
@Index('scim_users_organization_created_at_idx', ['organizationId', 'createdAt', 'userId'])
// GIN over the lower-cased addresses (`emails.value eq` → `emails_lower @> ARRAY[$n]`); the migration owns it.
@Index('scim_users_emails_idx', { synchronize: false })
// `name.familyName` / `name.givenName` filters: lower-cased expressions over `attributes` (migration 1796610000002).
@Index('scim_users_family_name_organization_idx', { synchronize: false })
@Index('scim_users_given_name_organization_idx', { synchronize: false })
export class ScimUserEntity {
  @PrimaryColumn({ name: 'user_id', type: 'uuid', primaryKeyConstraintName: 'PK_scim_users' })
  userId: string;

  // A SCIM DELETE hides the row and deactivates the user; nothing is ever deleted.
  // Checked at commit: a POST writes this row before the product user (migration 1796700000001).
  @ManyToOne(() => UserEntity, { onDelete: 'RESTRICT', deferrable: 'INITIALLY DEFERRED' })
  @JoinColumn({ name: 'user_id' })
  user?: Relation<UserEntity>;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId: string;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'organization_id' })
  organization?: Relation<OrganizationEntity>;

  /** As the directory spelled it. */
  @Column({ name: 'user_name', type: 'text' })
  userName: string;

  @Column({ name: 'user_name_lower', type: 'text' })
  userNameLower: string;

  /** Case-exact (RFC 7643). */
  @Column({ name: 'external_id', type: 'text', nullable: true })
  externalId: string | null;

  @Column({ name: 'display_name_lower', type: 'text', nullable: true })
  displayNameLower: string | null;

  /** What the directory asked for; the product status is the user's own. */
  @Column({ type: 'boolean' })
  active: boolean;

  @Column({ name: 'emails_lower', type: 'text', array: true, default: () => "'{}'" })
  emailsLower: string[];

  /** The normalized SCIM resource (core + extensions, without `id`, `meta` and our product extension). */
  @Column({ type: 'jsonb' })
  attributes: Record<string, unknown>;

  /** The body of the last write, secrets (`password`) dropped: for support. */
  @Column({ type: 'jsonb' })
  raw: Record<string, unknown>;

  /** `meta.version` (the ETag), incremented by every write. */
  @Column({ type: 'integer', default: 1 })
  version: number;

  @Column({ name: 'deleted_at', type: 'timestamptz', precision: 3, nullable: true })
  deletedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz', precision: 3 })
  updatedAt: Date;
}
