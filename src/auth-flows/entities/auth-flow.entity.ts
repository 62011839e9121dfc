import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const AUTH_FLOW_PURPOSES = ['sign_in', 'connect', 'assignment_verification'] as const;
export type AuthFlowPurpose = (typeof AUTH_FLOW_PURPOSES)[number];

/**
 * The server side of one redirect to Microsoft: what the callback needs to verify it (state, nonce, PKCE
 * verifier) and the browser it was started from. Single use, minutes long; kept in the database so any
 * replica can finish a flow another started.
 */
@Entity({ name: 'auth_flows' })
export class AuthFlowEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('auth_flows_state_hash_key', { unique: true })
  @Column({ name: 'state_hash', type: 'text' })
  stateHash: string;

  /** Hash of a secret cookie of the browser that started a sign-in; null for flows bound to a session user. */
  @Column({ name: 'browser_binding_hash', type: 'text', nullable: true })
  browserBindingHash: string | null;

  @Column({ type: 'enum', enum: AUTH_FLOW_PURPOSES, enumName: 'auth_flow_purpose' })
  purpose: AuthFlowPurpose;

  @Column({ type: 'text' })
  nonce: string;

  /** What the code must be redeemed with: the same redirect URI, scopes and authority tenant as the request. */
  @Column({ name: 'redirect_uri', type: 'text' })
  redirectUri: string;

  @Column({ type: 'text', array: true })
  scopes: string[];

  @Column({ name: 'authority_tenant', type: 'text', default: 'organizations' })
  authorityTenant: string;

  @Column({ name: 'code_verifier', type: 'text' })
  codeVerifier: string;

  @Column({ name: 'return_to', type: 'text', default: '/' })
  returnTo: string;

  /** For flows started by a signed-in user (connecting a tenant): who and for which organization. */
  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId: string | null;

  @Column({ name: 'organization_id', type: 'uuid', nullable: true })
  organizationId: string | null;

  /**
   * What the flow was started for, handed back to its purpose's callback (tenant assignment: the domains and
   * setting the administrator asked to verify). Never secrets.
   */
  @Column({ type: 'jsonb', nullable: true })
  context: Record<string, unknown> | null;

  @Index('auth_flows_expires_at_idx')
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
