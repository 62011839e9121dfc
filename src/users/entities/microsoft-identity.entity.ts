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
import { UserEntity } from './user.entity.js';

/** A Microsoft work account linked to a user, keyed on the immutable (`tid`, `oid`) pair, never on the UPN. */
@Entity({ name: 'microsoft_identities' })
@Index('microsoft_identities_tenant_object_key', ['tenantId', 'objectId'], { unique: true })
// lower(user_principal_name): SCIM adoption finds a user by UPN; an expression index, so the migration owns it.
@Index('microsoft_identities_upn_lower_idx', { synchronize: false })
export class MicrosoftIdentityEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('microsoft_identities_user_id_idx')
  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => UserEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'user_id' })
  user?: Relation<UserEntity>;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Column({ name: 'object_id', type: 'uuid' })
  objectId: string;

  /** Mutable in Entra: kept for display and support, never used to match. */
  @Column({ name: 'user_principal_name', type: 'text' })
  userPrincipalName: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'last_sign_in_at', type: 'timestamptz', nullable: true })
  lastSignInAt: Date | null;
}
