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
import { MAPPABLE_ROLES, type MappableRole } from '../resolve-role.js';

/** "Members of this Entra group get this role." One mapping per group and organization; never `owner`. */
@Entity({ name: 'group_role_mappings' })
@Index('group_role_mappings_group_key', ['organizationId', 'groupId'], { unique: true })
export class GroupRoleMappingEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId: string;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'organization_id' })
  organization?: Relation<OrganizationEntity>;

  @Column({ name: 'group_id', type: 'uuid' })
  groupId: string;

  /** As Graph reported it when the mapping was saved. */
  @Column({ name: 'group_display_name', type: 'text' })
  groupDisplayName: string;

  @Column({ type: 'enum', enum: MAPPABLE_ROLES, enumName: 'mappable_role' })
  role: MappableRole;

  @Column({ name: 'created_by_user_id', type: 'uuid', nullable: true })
  createdByUserId: string | null;

  // Millisecond precision, as in JavaScript dates, so pagination cursors compare exactly.
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
