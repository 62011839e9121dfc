import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  type Relation,
} from 'typeorm';
import { ScimGroupEntity } from './scim-group.entity.js';

/** A user's membership of a SCIM group, as the directory last pushed it. */
@Entity({ name: 'scim_group_members' })
// The groups of a user (role resolution, `members.value eq` filters).
@Index('scim_group_members_user_idx', ['organizationId', 'userId'])
export class ScimGroupMemberEntity {
  @PrimaryColumn({ name: 'group_id', type: 'uuid' })
  groupId: string;

  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId: string;

  /** The group's organization (and the user's): lets every query name it. */
  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId: string;

  @ManyToOne(() => ScimGroupEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'group_id' })
  group?: Relation<ScimGroupEntity>;

  // Named by string: the foreign key without importing another module's entity (module boundaries).
  @ManyToOne('UserEntity', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: unknown;

  /** The member's `display` as the directory sent it (returned as sent; the product's name may differ). */
  @Column({ type: 'text', nullable: true })
  display: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;
}
