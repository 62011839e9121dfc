import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

/**
 * A group the directory pushed through SCIM. Its `externalId` is, as Entra sends it by default, the Entra
 * group's object id: the key group → role mappings match on. `raw` is the body of the last write (support).
 */
@Entity({ name: 'scim_groups' })
// Entra looks groups up by `displayName eq` (not unique: Entra allows two groups of one name).
@Index('scim_groups_display_name_idx', ['organizationId', 'displayNameLower'])
// One SCIM group per Entra group: a second one with the same externalId is a 409 uniqueness.
@Index('scim_groups_external_id_key', ['organizationId', 'externalId'], {
  unique: true,
  where: '"external_id" IS NOT NULL',
})
// Paging order (immutable) and `meta.lastModified gt` filters.
@Index('scim_groups_created_idx', ['organizationId', 'createdAt', 'id'])
@Index('scim_groups_updated_idx', ['organizationId', 'updatedAt'])
export class ScimGroupEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId: string;

  // Named by string: the foreign key without importing another module's entity (module boundaries).
  @ManyToOne('OrganizationEntity', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id' })
  organization?: unknown;

  @Column({ name: 'display_name', type: 'text' })
  displayName: string;

  /** `lower(display_name)`, kept by the repository, for case-insensitive `displayName eq`. */
  @Column({ name: 'display_name_lower', type: 'text' })
  displayNameLower: string;

  @Column({ name: 'external_id', type: 'text', nullable: true })
  externalId: string | null;

  /** The last write's request body (support), never read back into the resource. */
  @Column({ type: 'jsonb' })
  raw: Record<string, unknown>;

  /** `meta.version` / ETag: bumped on every change, members included. */
  @Column({ type: 'integer', default: 1 })
  version: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz', precision: 3 })
  updatedAt: Date;
}
