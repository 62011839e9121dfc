import {
  Column,
  Entity,
  JoinColumn,
  OneToOne,
  PrimaryColumn,
  type Relation,
  UpdateDateColumn,
} from 'typeorm';
import { OrganizationEntity } from '../../../organizations/entities/organization.entity.js';

/**
 * The organization's SCIM switch. No row means the defaults: SCIM on (a token is what opens it, so an
 * organization without a token is closed anyway).
 */
@Entity({ name: 'scim_settings' })
export class ScimSettingsEntity {
  @PrimaryColumn({ name: 'organization_id', type: 'uuid' })
  organizationId: string;

  @OneToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id' })
  organization?: Relation<OrganizationEntity>;

  /** Off: every SCIM request of the organization is refused with 403 and changes nothing. */
  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
