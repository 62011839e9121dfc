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

/** What a claim comes from: a connection's verified domains now, a tenant assignment allowlist next. */
export const DOMAIN_CLAIM_SOURCES = ['entra_verified_domain', 'tenant_assignment'] as const;
export type DomainClaimSource = (typeof DOMAIN_CLAIM_SOURCES)[number];

/**
 * Within one Microsoft tenant a domain belongs to at most one organization (unique `tenant_id, domain`),
 * whatever claims it. `domain` is stored lower-case; `display_name` keeps the spelling the source gave.
 */
@Entity({ name: 'domain_claims' })
@Index('domain_claims_tenant_domain_key', ['tenantId', 'domain'], { unique: true })
export class DomainClaimEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Column({ type: 'text' })
  domain: string;

  @Column({ name: 'display_name', type: 'text' })
  displayName: string;

  @Index('domain_claims_organization_idx')
  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId: string;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'organization_id' })
  organization?: Relation<OrganizationEntity>;

  @Column({
    type: 'enum',
    enum: DOMAIN_CLAIM_SOURCES,
    enumName: 'domain_claim_source',
  })
  source: DomainClaimSource;

  /** The tenant's default domain (Entra verified domains; false for other sources). */
  @Column({ name: 'is_default', type: 'boolean', default: false })
  isDefault: boolean;

  /** The tenant's initial `*.onmicrosoft.com` domain (Entra verified domains; false for other sources). */
  @Column({ name: 'is_initial', type: 'boolean', default: false })
  isInitial: boolean;

  /** Where the source listed the domain: listings keep the source's order. */
  @Column({ type: 'integer', default: 0 })
  position: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
