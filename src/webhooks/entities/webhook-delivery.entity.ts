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
import { WebhookEndpointEntity } from './webhook-endpoint.entity.js';

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * One event for one endpoint, with the outcome of its last attempt. The attempts themselves run as jobs of
 * the PostgreSQL job queue; this row is their record and their guard (an attempt claims it by its count, and
 * only once every earlier pending delivery of its endpoint is settled or waiting out a back-off).
 */
@Entity({ name: 'webhook_deliveries' })
@Index('webhook_deliveries_endpoint_created_idx', ['endpointId', 'createdAt'])
@Index('webhook_deliveries_pending_endpoint_seq_idx', ['endpointId', 'seq'], { where: `status = 'pending'` })
export class WebhookDeliveryEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** Order of creation (event order within a transaction): deliveries to an endpoint go out in this order. */
  @Column({ type: 'bigint', generatedIdentity: 'ALWAYS', generated: 'identity' })
  seq: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId: string;

  @Column({ name: 'endpoint_id', type: 'uuid' })
  endpointId: string;

  @ManyToOne(() => WebhookEndpointEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'endpoint_id' })
  endpoint?: Relation<WebhookEndpointEntity>;

  /** The event's id: the `webhook-id` of every attempt. */
  @Column({ name: 'message_id', type: 'uuid' })
  messageId: string;

  @Column({ name: 'event_type', type: 'text' })
  eventType: string;

  /** The exact body sent (the event envelope). */
  @Column({ type: 'jsonb' })
  payload: Record<string, unknown>;

  @Column({ type: 'text', default: 'pending' })
  status: DeliveryStatus;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true })
  nextAttemptAt: Date | null;

  @Column({ name: 'last_attempt_at', type: 'timestamptz', nullable: true })
  lastAttemptAt: Date | null;

  @Column({ name: 'response_status', type: 'integer', nullable: true })
  responseStatus: number | null;

  /** The first bytes of the last response body. */
  @Column({ name: 'response_body', type: 'text', nullable: true })
  responseBody: string | null;

  @Column({ name: 'duration_ms', type: 'integer', nullable: true })
  durationMs: number | null;

  /** Why the last attempt failed without a response (`timeout`, `address_refused`, `connection_failed`). */
  @Column({ type: 'text', nullable: true })
  error: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
