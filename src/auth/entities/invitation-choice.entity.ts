import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { VerifiedIdToken } from '../../microsoft/microsoft-identity.client.js';

/**
 * A sign-in that stopped because several organizations invited the address: the validated ID token's claims,
 * kept for ten minutes until the person picks one of the offered invitations in the browser the sign-in
 * ended in (the cookie whose hash is `bindingHash`). Single use; nobody is created before the pick.
 */
@Entity({ name: 'invitation_choices' })
export class InvitationChoiceEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('invitation_choices_binding_hash_key', { unique: true })
  @Column({ name: 'binding_hash', type: 'text' })
  bindingHash: string;

  /** The claims Microsoft signed, already validated (signature, issuer, audience, nonce) at the callback. */
  @Column({ type: 'jsonb' })
  claims: VerifiedIdToken;

  /** The invitations offered, one per organization; only these can be accepted with this choice. */
  @Column({ name: 'invitation_ids', type: 'uuid', array: true })
  invitationIds: string[];

  @Column({ name: 'return_to', type: 'text', default: '/' })
  returnTo: string;

  @Index('invitation_choices_expires_at_idx')
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
