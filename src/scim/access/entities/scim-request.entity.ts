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
import { OrganizationEntity } from '../../../organizations/entities/organization.entity.js';

export const SCIM_RESOURCE_TYPES = ['User', 'Group'] as const;
export type ScimResourceType = (typeof SCIM_RESOURCE_TYPES)[number];

/**
 * One request to `/scim/v2` of an organization: the provisioning log an admin opens when Entra reports a
 * failure. Requests whose token names no organization (unknown tokens) have no organization to be shown to
 * and are not kept. Kept for 30 days.
 */
@Entity({ name: 'scim_requests' })
@Index('scim_requests_organization_created_idx', ['organizationId', 'createdAt', 'id'])
@Index('scim_requests_organization_resource_idx', ['organizationId', 'resourceId', 'createdAt'])
@Index('scim_requests_created_idx', ['createdAt'])
export class ScimRequestEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId: string;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id' })
  organization?: Relation<OrganizationEntity>;

  /** The token presented (also a revoked or expired one); null when it was not one of the organization's. */
  @Column({ name: 'token_id', type: 'uuid', nullable: true })
  tokenId: string | null;

  @Column({ type: 'text' })
  method: string;

  /** The path below the Tenant URL, without the query string (it is kept in `query`). */
  @Column({ type: 'text' })
  path: string;

  @Column({ type: 'text', nullable: true })
  query: string | null;

  @Column({ type: 'integer' })
  status: number;

  @Column({ name: 'scim_type', type: 'text', nullable: true })
  scimType: string | null;

  @Column({ type: 'text', nullable: true })
  detail: string | null;

  @Column({ name: 'resource_type', type: 'text', nullable: true })
  resourceType: ScimResourceType | null;

  @Column({ name: 'resource_id', type: 'text', nullable: true })
  resourceId: string | null;

  @Column({ name: 'duration_ms', type: 'integer' })
  durationMs: number;

  /** The request body with secrets (`password`...) removed. */
  @Column({ name: 'request_body', type: 'jsonb', nullable: true })
  requestBody: unknown;

  /** What the SCIM code wanted the admin to know about this request (an ignored value, a loud deactivation). */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  notes: string[];

  @Column({ name: 'client_address', type: 'text', nullable: true })
  clientAddress: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
