import { randomBytes, randomUUID } from 'node:crypto';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { Webhook } from 'standardwebhooks';
import { AuditService, SYSTEM_ACTOR } from '../audit/audit.service.js';
import { ValidationFailedError } from '../common/domain-error.js';
import { decodeCursor, toPage } from '../common/pagination.js';
import { type Principal, sessionUser } from '../common/principal.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { isEventTypePattern, matchesEventType, PING_EVENT_TYPE } from '../events/event-types.js';
import { EventsService, type RecordedEvent } from '../events/events.service.js';
import type { TokenCipher } from '../integrations/token-cipher.js';
import { urlProblem } from './address-policy.js';
import type { WebhookDeliveryEntity } from './entities/webhook-delivery.entity.js';
import type { WebhookEndpointEntity } from './entities/webhook-endpoint.entity.js';
import { deliveriesToEnqueue } from './fan-out.js';
import { postWebhook } from './webhook-sender.js';
import { type DeliveryJob, WebhookQueue } from './webhook-queue.service.js';
import {
  WebhookDeliveryNotFoundError,
  WebhookDeliveryPendingError,
  WebhookNotFoundError,
  WebhookUrlRefusedError,
} from './webhooks.errors.js';
import { type ClaimedDelivery, type EndpointRoute, WebhooksRepository } from './webhooks.repository.js';

export const WEBHOOK_SECRET_CIPHER = Symbol('webhook-secret-cipher');
const GIVE_UP_AFTER_MS = 3 * 86_400_000;
/** How many deliveries of one endpoint a job attempts in a row at most, and for how long before handing on. */
const CHAIN_LIMIT = 1000;
const CHAIN_BUDGET_MS = 20_000;

/** Signs one body for one message id: the Standard Webhooks headers. */
type Signer = (messageId: string, body: string) => Record<string, string>;

const newSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

@Injectable()
export class WebhooksService implements OnApplicationBootstrap {
  private readonly logger = new Logger(WebhooksService.name);
  /** Endpoints this replica is walking (how many walks), and those a job poked meanwhile (see `deliver`). */
  private readonly walking = new Map<string, number>();
  private readonly poked = new Set<string>();
  /** The period of the last watch job this replica sent, per endpoint (see `watch`). */
  private readonly watched = new Map<string, number>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(WEBHOOK_SECRET_CIPHER) private readonly cipher: TokenCipher,
    private readonly repository: WebhooksRepository,
    private readonly queue: WebhookQueue,
    private readonly audit: AuditService,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    events: EventsService,
  ) {
    events.onRecorded({
      readAlong: (batch, organizationId) => this.repository.addEnabledEndpointsRead(batch, organizationId),
      consume: (recorded, endpoints) => this.fanOut(recorded, endpoints as unknown as EndpointRoute[]),
    });
  }

  onApplicationBootstrap(): void {
    if (this.config.webhooks.workerEnabled) this.queue.work((job) => this.deliver(job));
  }

  async create(
    principal: Principal,
    input: { url: string; eventTypes: string[]; enabled?: boolean; description?: string },
  ): Promise<{ endpoint: WebhookEndpointEntity; secret: string }> {
    this.assertUsable(input);
    const secret = newSecret();
    const endpoint = await this.txHost.withTransaction(async () => {
      const created = await this.repository.createEndpoint(principal.organizationId, {
        url: input.url,
        eventTypes: input.eventTypes,
        enabled: input.enabled ?? true,
        description: input.description ?? null,
        secretCiphertext: 'pending',
        createdByUserId: principal.kind === 'session' ? sessionUser(principal).userId : null,
      });
      created.secretCiphertext = this.seal(created, secret);
      const saved = await this.repository.saveEndpoint(created);
      await this.audited(principal, 'webhook.created', saved.id, null, this.describe(saved));
      return saved;
    });
    return { endpoint, secret };
  }

  list(organizationId: string): Promise<WebhookEndpointEntity[]> {
    return this.repository.listEndpoints(organizationId);
  }

  async get(organizationId: string, id: string): Promise<WebhookEndpointEntity> {
    const endpoint = await this.repository.findEndpoint(organizationId, id);
    if (!endpoint) throw new WebhookNotFoundError();
    return endpoint;
  }

  async update(
    principal: Principal,
    id: string,
    input: { url?: string; eventTypes?: string[]; enabled?: boolean; description?: string },
  ): Promise<WebhookEndpointEntity> {
    this.assertUsable(input);
    return this.txHost.withTransaction(async () => {
      const endpoint = await this.lock(principal.organizationId, id);
      const before = this.describe(endpoint);
      if (input.url !== undefined) endpoint.url = input.url;
      if (input.eventTypes !== undefined) endpoint.eventTypes = input.eventTypes;
      if (input.description !== undefined) endpoint.description = input.description;
      if (input.enabled !== undefined) {
        endpoint.enabled = input.enabled;
        endpoint.disabledReason = null;
      }
      const saved = await this.repository.saveEndpoint(endpoint);
      await this.audited(principal, 'webhook.updated', id, before, this.describe(saved));
      return saved;
    });
  }

  async remove(principal: Principal, id: string): Promise<void> {
    await this.txHost.withTransaction(async () => {
      const endpoint = await this.lock(principal.organizationId, id);
      await this.repository.deleteEndpoint(principal.organizationId, id);
      await this.audited(principal, 'webhook.deleted', id, this.describe(endpoint), null);
    });
  }

  /** A new secret signs from now on; the previous one also signs for `overlapHours`. */
  async rollSecret(
    principal: Principal,
    id: string,
    overlapHours = 24,
  ): Promise<{ endpoint: WebhookEndpointEntity; secret: string }> {
    const secret = newSecret();
    const endpoint = await this.txHost.withTransaction(async () => {
      const locked = await this.lock(principal.organizationId, id);
      locked.previousSecretCiphertext = overlapHours > 0 ? locked.secretCiphertext : null;
      locked.previousSecretExpiresAt =
        overlapHours > 0 ? new Date(Date.now() + overlapHours * 3_600_000) : null;
      locked.secretCiphertext = this.seal(locked, secret);
      const saved = await this.repository.saveEndpoint(locked);
      await this.audited(principal, 'webhook.secret_rolled', id, null, {
        previousSecretExpiresAt: saved.previousSecretExpiresAt?.toISOString() ?? null,
      });
      return saved;
    });
    return { endpoint, secret };
  }

  async listDeliveries(organizationId: string, id: string, query: { limit?: number; cursor?: string }) {
    await this.get(organizationId, id);
    const limit = query.limit ?? 50;
    const rows = await this.repository.listDeliveries(
      organizationId,
      id,
      decodeCursor(query.cursor),
      limit + 1,
    );
    return toPage(rows, limit);
  }

  /** Delivers a finished delivery again (same `webhook-id`), now. */
  async retry(principal: Principal, id: string, deliveryId: string): Promise<WebhookDeliveryEntity> {
    return this.txHost.withTransaction(async () => {
      await this.get(principal.organizationId, id);
      const delivery = await this.repository.findDelivery(principal.organizationId, id, deliveryId);
      if (!delivery) throw new WebhookDeliveryNotFoundError();
      if (delivery.status === 'pending') throw new WebhookDeliveryPendingError();
      await this.repository.recordOutcome(delivery.id, { status: 'pending', nextAttemptAt: new Date() });
      await this.queue.enqueue({ deliveryId: delivery.id, endpointId: id });
      await this.audited(principal, 'webhook.delivery_retried', id, null, { deliveryId });
      return { ...delivery, status: 'pending', nextAttemptAt: new Date() };
    });
  }

  /** Sends a `webhook.ping` event to the endpoint (not in the feed). */
  async test(principal: Principal, id: string): Promise<WebhookDeliveryEntity> {
    return this.txHost.withTransaction(async () => {
      const endpoint = await this.get(principal.organizationId, id);
      const messageId = randomUUID();
      const payload = {
        id: messageId,
        type: PING_EVENT_TYPE,
        timestamp: new Date().toISOString(),
        data: { webhookId: endpoint.id },
      };
      const delivery = await this.repository.createDelivery(principal.organizationId, {
        endpointId: endpoint.id,
        messageId,
        eventType: PING_EVENT_TYPE,
        payload,
        nextAttemptAt: new Date(),
      });
      await this.queue.enqueue({ deliveryId: delivery.id, endpointId: endpoint.id });
      return delivery;
    });
  }

  /**
   * In the transaction that records the events: one delivery per event and matching enabled endpoint, written
   * in one statement, and one job per endpoint (`deliveriesToEnqueue`), sent in one statement too.
   */
  /**
   * The deliveries of events just recorded, in their transaction: one per enabled endpoint whose event types
   * match, each endpoint's first one queued. `endpoints` were read by the statement that inserted the events.
   */
  private async fanOut(events: RecordedEvent[], endpoints: EndpointRoute[]): Promise<void> {
    if (events.length === 0 || endpoints.length === 0) return;
    const organizationId = events[0].organizationId;
    const rows = events.flatMap((event) =>
      endpoints
        .filter((endpoint) =>
          endpoint.eventTypes.some((pattern) => matchesEventType(pattern, event.envelope.type)),
        )
        .map((endpoint) => ({
          endpointId: endpoint.id,
          messageId: event.envelope.id,
          eventType: event.envelope.type,
          payload: event.envelope,
        })),
    );
    const deliveries = await this.repository.insertDeliveries(organizationId, rows);
    await this.queue.enqueueMany(deliveriesToEnqueue(deliveries));
  }

  /**
   * What a job of the queue runs: a walk of its delivery's endpoint. The walk claims the endpoint's next due
   * delivery (the earliest, once nothing earlier is in flight), attempts it, and goes on to the next as soon as
   * it settled (succeeded, given up, or scheduled for a retry), so one endpoint is drained at the receiver's
   * pace, without waiting for the queue's next poll. It ends when nothing is due, when another worker holds the
   * endpoint (an attempt in flight: then a throttled watch job looks again once such an attempt would count as
   * lost, in case its worker died), or after `CHAIN_BUDGET_MS`, well within the queue's expiry, handing on to a
   * job of its own. A job whose own delivery went out meanwhile just finds nothing due.
   */
  async deliver(job: DeliveryJob): Promise<void> {
    // This replica walks the endpoint already: that walk reaches the job's delivery (it was committed before
    // its job could be fetched); the poke makes the walk look once more before it ends.
    // Either way, should this replica die mid-walk, the endpoint's watch job takes the walk up again.
    if (job.endpointId && this.walking.has(job.endpointId)) {
      this.poked.add(job.endpointId);
      await this.watch(job.endpointId, job.deliveryId);
      return;
    }
    let walked = job.endpointId;
    if (walked) this.walking.set(walked, (this.walking.get(walked) ?? 0) + 1);
    try {
      if (walked) await this.watch(walked, job.deliveryId);
      const started = Date.now();
      const stale = this.staleSeconds();
      // The first claim names the job's delivery; only a claimed attempt reads the endpoint.
      let next = await this.repository.claimNext({ deliveryId: job.deliveryId }, stale);
      let endpoint: WebhookEndpointEntity | null = null;
      let sign: Signer | null = null;
      for (let i = 1; ; i += 1) {
        if (next.state !== 'claimed') {
          if (walked && this.poked.delete(walked)) {
            next = await this.repository.claimNext({ endpointId: walked }, stale);
            continue;
          }
          if (next.state === 'waiting') await this.watch(next.endpointId, job.deliveryId);
          return;
        }
        if (!walked) {
          walked = next.delivery.endpointId;
          this.walking.set(walked, (this.walking.get(walked) ?? 0) + 1);
        }
        // A person may disable or change the endpoint meanwhile: read it again now and then.
        if (!endpoint || i % 10 === 0) {
          endpoint = await this.repository.findEndpointAcrossOrganizations(next.delivery.endpointId);
          if (!endpoint) return;
          sign = this.signer(endpoint);
        }
        if (!endpoint.enabled || !sign) {
          await this.repository.recordOutcome(next.delivery.id, {
            status: 'failed',
            error: 'endpoint_disabled',
            attempts: next.delivery.attempts - 1,
          });
          await this.repository.failDue(endpoint.id, stale, 'endpoint_disabled');
          return;
        }
        const outcome = await this.attempt(next.delivery, endpoint, sign);
        if (outcome === 'stopped') {
          // Disabled: what else is due fails now, what waits out a back-off when its retry comes.
          await this.repository.failDue(endpoint.id, stale, 'endpoint_disabled');
          return;
        }
        const succeeded = outcome === 'settled' ? undefined : { id: next.delivery.id, ...outcome.succeeded };
        // Also at shutdown: the walk ends after its attempt, and another replica (or the next start) goes on.
        if (i >= CHAIN_LIMIT || Date.now() - started > CHAIN_BUDGET_MS || this.queue.draining) {
          if (succeeded) {
            const { id, ...recorded } = succeeded;
            await this.repository.recordOutcome(id, {
              ...recorded,
              status: 'succeeded',
              error: null,
              nextAttemptAt: null,
            });
          }
          // Handed on to a job of its own, which walks on from there (after this walk has ended).
          await this.queue.enqueue({ deliveryId: next.delivery.id, endpointId: endpoint.id });
          return;
        }
        next = await this.repository.claimNext({ endpointId: endpoint.id }, stale, succeeded);
      }
    } finally {
      if (walked) {
        const left = (this.walking.get(walked) ?? 1) - 1;
        if (left > 0) this.walking.set(walked, left);
        else this.walking.delete(walked);
      }
    }
  }

  /**
   * Has a job look at the endpoint again once an attempt in flight would count as lost, in case its worker
   * died. At most one such job per endpoint and period (the queue's throttling); this replica also skips
   * sending one it already sent for the current period.
   */
  private async watch(endpointId: string, deliveryId: string): Promise<void> {
    const seconds = this.staleSeconds();
    const period = Math.floor(Date.now() / 1000 / seconds);
    if (this.watched.get(endpointId) === period) return;
    if (this.watched.size > 10_000) this.watched.clear();
    this.watched.set(endpointId, period);
    await this.queue.watch(endpointId, deliveryId, seconds);
  }

  /**
   * One claimed attempt, sent. A success is returned for the caller to record (with its next claim); a failure
   * is recorded and schedules the next attempt as a job with the same delivery (`settled`); `stopped` when this
   * attempt gave up and disabled the endpoint (nothing more goes to it).
   */
  async attempt(
    delivery: ClaimedDelivery,
    endpoint: WebhookEndpointEntity,
    sign: Signer,
  ): Promise<
    | { succeeded: { responseStatus: number; responseBody: string | null; durationMs: number } }
    | 'settled'
    | 'stopped'
  > {
    const settled = 'settled' as const;
    const attempts = delivery.attempts;
    const body = delivery.body;
    const problem = urlProblem(endpoint.url, this.config.webhooks.allowPrivateUrls);
    const result = problem
      ? { status: null, body: null, durationMs: 0, error: 'address_refused' }
      : await postWebhook(endpoint.url, body, sign(delivery.messageId, body), {
          timeoutMs: this.config.webhooks.timeoutMs,
          allowPrivate: this.config.webhooks.allowPrivateUrls,
        });
    const outcome = {
      responseStatus: result.status,
      responseBody: result.body,
      durationMs: result.durationMs,
      error: result.error,
    };
    if (result.status !== null && result.status >= 200 && result.status < 300)
      return {
        succeeded: {
          responseStatus: result.status,
          responseBody: result.body,
          durationMs: result.durationMs,
        },
      };
    const delays = this.config.webhooks.retryDelaysSeconds;
    const delay = delays[attempts - 1];
    const givingUp =
      delay === undefined || Date.now() + delay * 1000 - delivery.createdAt.getTime() > GIVE_UP_AFTER_MS;
    if (!givingUp) {
      await this.txHost.withTransaction(async () => {
        await this.repository.recordOutcome(delivery.id, {
          ...outcome,
          nextAttemptAt: new Date(Date.now() + delay * 1000),
        });
        await this.queue.enqueue({ deliveryId: delivery.id, endpointId: endpoint.id }, delay);
      });
      return settled;
    }
    await this.txHost.withTransaction(async () => {
      await this.repository.recordOutcome(delivery.id, { ...outcome, status: 'failed', nextAttemptAt: null });
      const locked = await this.repository.lockEndpoint(endpoint.organizationId, endpoint.id);
      if (!locked?.enabled) return;
      // Sustained failure: deliveries kept failing until they gave up. A person re-enables it with PATCH.
      locked.enabled = false;
      locked.disabledReason = 'failing';
      await this.repository.saveEndpoint(locked);
      await this.audit.record({
        organizationId: endpoint.organizationId,
        actor: SYSTEM_ACTOR,
        action: 'webhook.disabled',
        target: { type: 'webhook', id: endpoint.id },
        before: { enabled: true },
        after: { enabled: false, disabledReason: 'failing', deliveryId: delivery.id, attempts },
      });
    });
    this.logger.warn(
      `webhook ${endpoint.id} disabled: delivery ${delivery.id} gave up after ${attempts} attempts`,
    );
    return 'stopped';
  }

  /** An attempt in flight longer than its timeout and a margin lost its worker: it may be attempted again. */
  private staleSeconds(): number {
    return Math.ceil(this.config.webhooks.timeoutMs / 1000) + 10;
  }

  /**
   * Standard Webhooks headers for the endpoint as read; while a rolled secret overlaps, both secrets sign. The
   * secrets are decrypted once per read of the endpoint, not once per attempt.
   */
  private signer(endpoint: WebhookEndpointEntity): Signer {
    const now = new Date();
    const secrets = [this.cipher.decrypt(endpoint.secretCiphertext, this.associatedData(endpoint))];
    if (
      endpoint.previousSecretCiphertext &&
      endpoint.previousSecretExpiresAt &&
      endpoint.previousSecretExpiresAt > now
    )
      secrets.push(this.cipher.decrypt(endpoint.previousSecretCiphertext, this.associatedData(endpoint)));
    const signers = secrets.map((secret) => new Webhook(secret));
    return (messageId, body) => {
      const at = new Date();
      return {
        'webhook-id': messageId,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': signers.map((signer) => signer.sign(messageId, at, body)).join(' '),
      };
    };
  }

  private seal(endpoint: WebhookEndpointEntity, secret: string): string {
    return this.cipher.encrypt(secret, this.associatedData(endpoint));
  }

  private associatedData(endpoint: WebhookEndpointEntity): string {
    return `webhook:${endpoint.organizationId}:${endpoint.id}`;
  }

  private assertUsable(input: { url?: string; eventTypes?: string[] }): void {
    const unknown = (input.eventTypes ?? []).filter((pattern) => !isEventTypePattern(pattern));
    if (unknown.length > 0)
      throw new ValidationFailedError(
        unknown.map((pattern) => ({ field: 'eventTypes', message: `unknown event type ${pattern}` })),
      );
    if (input.url !== undefined) {
      const problem = urlProblem(input.url, this.config.webhooks.allowPrivateUrls);
      if (problem) throw new WebhookUrlRefusedError(problem);
    }
  }

  private async lock(organizationId: string, id: string): Promise<WebhookEndpointEntity> {
    const endpoint = await this.repository.lockEndpoint(organizationId, id);
    if (!endpoint) throw new WebhookNotFoundError();
    return endpoint;
  }

  private describe(endpoint: WebhookEndpointEntity) {
    return { url: endpoint.url, eventTypes: endpoint.eventTypes, enabled: endpoint.enabled };
  }

  private audited(
    principal: Principal,
    action: string,
    id: string,
    before: Record<string, unknown> | null,
    after: Record<string, unknown> | null,
  ): Promise<void> {
    return this.audit.record({
      organizationId: principal.organizationId,
      actor: principal.actor,
      action,
      target: { type: 'webhook', id },
      before,
      after,
    });
  }
}
