import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import type { DeepPartial } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import type { Cursor } from '../common/pagination.js';
import { OrganizationScopedRepository } from '../database/organization-scoped.repository.js';
import { preparedQuery } from '../database/prepared-statements.js';
import type { WriteBatch } from '../database/write-batch.js';
import { WebhookDeliveryEntity } from './entities/webhook-delivery.entity.js';
import { WebhookEndpointEntity } from './entities/webhook-endpoint.entity.js';
import type { NewDelivery } from './fan-out.js';

/**
 * A pending delivery `d` may be attempted now: never tried or its retry time come, or its attempt is stale (in
 * flight for longer than `staleSeconds`, the parameter named by `stale`: its worker died).
 */
const due = (stale: string) => `(d.next_attempt_at <= now() OR (d.next_attempt_at IS NULL AND
  (d.last_attempt_at IS NULL OR d.last_attempt_at < now() - make_interval(secs => ${stale}))))`;

/** What `claimNext` found: an attempt claimed, or why there is none. */
export type NextClaim =
  | { state: 'claimed'; delivery: ClaimedDelivery }
  /** Nothing of the endpoint is due. */
  | { state: 'none' }
  /** The first due delivery is behind an earlier one whose attempt is in flight. */
  | { state: 'waiting'; endpointId: string }
  /** Another worker claimed it first. */
  | { state: 'raced' };

/** An enabled endpoint as the fan-out routes events to it. */
export interface EndpointRoute {
  id: string;
  eventTypes: string[];
}

/** A delivery whose attempt number `attempts` was just claimed, with the exact body to send. */
export interface ClaimedDelivery {
  id: string;
  organizationId: string;
  endpointId: string;
  messageId: string;
  attempts: number;
  body: string;
  createdAt: Date;
}

/**
 * The claim of `claimNext`, a fixed text (its own statement name, prepared once per connection). Parameters:
 * $1 endpoint id or null, $2 stale seconds, $3 delivery id or null (its endpoint), $4–$7 the success to record
 * first (id, response status, response body, duration) or nulls.
 */
const CLAIM_NEXT = `WITH settled AS (
         UPDATE webhook_deliveries
            SET status = 'succeeded', next_attempt_at = NULL, response_status = $5, response_body = $6,
                duration_ms = $7, error = NULL
          WHERE id = $4::uuid AND status = 'pending'
          RETURNING id),
       target AS (
         SELECT COALESCE($1::uuid, (SELECT x.endpoint_id FROM webhook_deliveries x WHERE x.id = $3::uuid))
                AS endpoint_id),
       next AS (
         SELECT d.id, d.seq, d.attempts FROM webhook_deliveries d, target t
          WHERE d.endpoint_id = t.endpoint_id AND d.status = 'pending' AND ${due('$2')}
            AND d.id IS DISTINCT FROM $4::uuid
          ORDER BY d.seq LIMIT 1),
       blocked AS (
         SELECT EXISTS (
           SELECT 1 FROM webhook_deliveries e, next n, target t
            WHERE e.endpoint_id = t.endpoint_id AND e.status = 'pending' AND e.seq < n.seq
              AND e.id IS DISTINCT FROM $4::uuid
              AND (e.next_attempt_at IS NULL OR e.next_attempt_at <= now())) AS yes),
       claimed AS (
         UPDATE webhook_deliveries d
            SET attempts = d.attempts + 1, last_attempt_at = now(), next_attempt_at = NULL
           FROM next n, blocked b
          WHERE d.id = n.id AND NOT b.yes AND d.status = 'pending' AND d.attempts = n.attempts
          RETURNING d.id, d.organization_id, d.message_id, d.attempts, d.payload::text AS body, d.created_at)
       SELECT (SELECT count(*) FROM next)::int AS due, (SELECT yes FROM blocked) AS blocked,
              (SELECT endpoint_id FROM target) AS endpoint_id, (SELECT count(*) FROM settled)::int AS settled, c.*
         FROM (SELECT 1) AS one LEFT JOIN claimed c ON true`;

/** One row of `CLAIM_NEXT`: what it found, and the claimed delivery's columns when it claimed one. */
interface ClaimRow {
  due: number;
  blocked: boolean;
  endpoint_id: string | null;
  id: string | null;
  organization_id: string;
  message_id: string;
  attempts: number;
  body: string;
  created_at: Date;
}

@Injectable()
export class WebhooksRepository {
  private readonly endpoints: OrganizationScopedRepository<WebhookEndpointEntity>;
  private readonly deliveries: OrganizationScopedRepository<WebhookDeliveryEntity>;

  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    this.endpoints = new OrganizationScopedRepository(WebhookEndpointEntity, () => this.txHost.tx);
    this.deliveries = new OrganizationScopedRepository(WebhookDeliveryEntity, () => this.txHost.tx);
  }

  createEndpoint(organizationId: string, values: DeepPartial<WebhookEndpointEntity>) {
    return this.endpoints.create(organizationId, values);
  }

  listEndpoints(organizationId: string): Promise<WebhookEndpointEntity[]> {
    return this.endpoints.find(organizationId, { order: { createdAt: 'DESC', id: 'DESC' } });
  }

  findEndpoint(organizationId: string, id: string): Promise<WebhookEndpointEntity | null> {
    return this.endpoints.findOneBy(organizationId, { id });
  }

  lockEndpoint(organizationId: string, id: string): Promise<WebhookEndpointEntity | null> {
    return this.endpoints.lockOneBy(organizationId, { id });
  }

  /**
   * Adds the read of the organization's enabled endpoints (id and event types: what the fan-out routes by) to a
   * batch of the transaction's writes, the statement that records events; returns the part's name.
   */
  addEnabledEndpointsRead(batch: WriteBatch, organizationId: string): string {
    return batch.add(
      'endpoints',
      `SELECT id, event_types AS "eventTypes" FROM webhook_endpoints
        WHERE organization_id = ${batch.param(organizationId, 'uuid')} AND enabled`,
      true,
    );
  }

  saveEndpoint(endpoint: WebhookEndpointEntity): Promise<WebhookEndpointEntity> {
    return this.endpoints.save(endpoint.organizationId, endpoint);
  }

  deleteEndpoint(organizationId: string, id: string): Promise<number> {
    return this.endpoints.delete(organizationId, { id });
  }

  /** One delivery (a ping), as the delivery log shows it. */
  createDelivery(
    organizationId: string,
    row: DeepPartial<WebhookDeliveryEntity>,
  ): Promise<WebhookDeliveryEntity> {
    return this.deliveries.create(organizationId, row);
  }

  /** The fan-out's deliveries, in one statement; their `seq` follows the order of `rows`. */
  async insertDeliveries(
    organizationId: string,
    rows: { endpointId: string; messageId: string; eventType: string; payload: object }[],
  ): Promise<NewDelivery[]> {
    if (rows.length === 0) return [];
    const inserted = (await this.txHost.tx.query(
      `INSERT INTO webhook_deliveries (organization_id, endpoint_id, message_id, event_type, payload, next_attempt_at)
       SELECT $1, (r.value->>'endpoint_id')::uuid, (r.value->>'message_id')::uuid, r.value->>'event_type',
              r.value->'payload', now()
         FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS r(value, n)
        ORDER BY r.n
       RETURNING id, endpoint_id, seq::text`,
      [
        organizationId,
        JSON.stringify(
          rows.map((row) => ({
            endpoint_id: row.endpointId,
            message_id: row.messageId,
            event_type: row.eventType,
            payload: row.payload,
          })),
        ),
      ],
    )) as { id: string; endpoint_id: string; seq: string }[];
    return inserted.map((row) => ({ id: row.id, endpointId: row.endpoint_id, seq: row.seq }));
  }

  listDeliveries(organizationId: string, endpointId: string, cursor: Cursor | null, limit: number) {
    const builder = this.deliveries
      .queryBuilder(organizationId, 'd')
      .andWhere('d.endpoint_id = :endpointId', { endpointId })
      .orderBy('d.created_at', 'DESC')
      .addOrderBy('d.id', 'DESC')
      .take(limit);
    if (cursor)
      builder.andWhere('(d.created_at, d.id) < (:createdAt, :id)', {
        createdAt: cursor.createdAt,
        id: cursor.id,
      });
    return builder.getMany();
  }

  findDelivery(organizationId: string, endpointId: string, id: string) {
    return this.deliveries.findOneBy(organizationId, { id, endpointId });
  }

  findEndpointAcrossOrganizations(id: string): Promise<WebhookEndpointEntity | null> {
    return this.endpoints.acrossOrganizations().findOneBy({ id });
  }

  /**
   * Claims the next attempt of an endpoint (named, or as the endpoint of `of.deliveryId`) in one statement: its
   * earliest pending delivery that is due (never tried, its retry time come, or stale after `staleSeconds`),
   * provided no earlier pending delivery of the endpoint is in flight, by attempt number, so exactly one caller
   * gets it. A delivery waiting out a back-off does not hold up later ones. Deliveries that succeed therefore go
   * out one at a time, in `seq` order. `succeeded` records the success of the attempt before (one statement
   * per delivery while a walk succeeds).
   */
  async claimNext(
    of: { endpointId: string } | { deliveryId: string },
    staleSeconds: number,
    succeeded?: { id: string; responseStatus: number; responseBody: string | null; durationMs: number },
  ): Promise<NextClaim> {
    // With `succeeded`, the same statement first records that attempt's success (`settled`); the rest of the
    // statement still sees that delivery in flight, so it is left out of `next` and `blocked` by id. It runs
    // once per attempt, so it goes out prepared, on the pool (no transaction is open during a walk).
    const rows = await preparedQuery<ClaimRow>(this.txHost.tx, CLAIM_NEXT, [
      'endpointId' in of ? of.endpointId : null,
      staleSeconds,
      'deliveryId' in of ? of.deliveryId : null,
      succeeded?.id ?? null,
      succeeded?.responseStatus ?? null,
      succeeded?.responseBody ?? null,
      succeeded?.durationMs ?? null,
    ]);
    const row = rows[0];
    if (row.id)
      return {
        state: 'claimed',
        delivery: {
          id: row.id,
          organizationId: row.organization_id,
          endpointId: row.endpoint_id!,
          messageId: row.message_id,
          attempts: row.attempts,
          body: row.body,
          createdAt: new Date(row.created_at),
        },
      };
    if (row.due === 0 || !row.endpoint_id) return { state: 'none' };
    return row.blocked ? { state: 'waiting', endpointId: row.endpoint_id } : { state: 'raced' };
  }

  /** Settles the endpoint's due deliveries as failed with `error` (the endpoint was disabled). */
  async failDue(endpointId: string, staleSeconds: number, error: string): Promise<void> {
    await this.txHost.tx.query(
      `UPDATE webhook_deliveries d SET status = 'failed', error = $3, next_attempt_at = NULL
        WHERE d.endpoint_id = $1 AND d.status = 'pending' AND ${due('$2')}`,
      [endpointId, staleSeconds, error],
    );
  }

  async recordOutcome(id: string, values: Omit<Partial<WebhookDeliveryEntity>, 'payload'>): Promise<void> {
    await this.deliveries
      .acrossOrganizations()
      .update({ id }, values as QueryDeepPartialEntity<WebhookDeliveryEntity>);
  }
}
