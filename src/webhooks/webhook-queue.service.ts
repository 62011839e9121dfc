import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import PgBoss from 'pg-boss';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';

export const DELIVERY_QUEUE = 'webhook-delivery';

/** How long the fetch loop waits after a fetch that found fewer jobs than there was room for. */
const POLL_MS = 500;

export interface DeliveryJob {
  deliveryId: string;
  /** The delivery's endpoint (absent from jobs sent before it was added). */
  endpointId?: string;
}

/**
 * The PostgreSQL job queue (pg-boss, in its own `pgboss` schema of the same database). A job is sent in the
 * transaction that creates its delivery, so a committed delivery always has its job and a rolled back one
 * never does; pg-boss hands each job to one worker across replicas (SKIP LOCKED) and hands it out again if
 * the worker dies (expiry, then its retries).
 */
@Injectable()
export class WebhookQueue implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(WebhookQueue.name);
  private readonly boss: PgBoss;
  /** This replica's jobs being handled, by job id (at most `webhooks.concurrency`). */
  private readonly inFlight = new Map<string, Promise<void>>();
  private loop: Promise<void> | undefined;
  private stopping = false;
  /** The fetch loop's pause: ended by shutdown, and by a job that finished when `forRoom`. */
  private pause: { end: () => void; forRoom: boolean } | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    dataSource: DataSource,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
  ) {
    const url = (dataSource.options as { url?: string }).url;
    this.boss = new PgBoss({
      connectionString: url,
      schema: 'pgboss',
      max: 3,
      application_name: 'webhooks',
      // Finished jobs are the deliveries table's business; keep the queue's own tables small.
      deleteAfterDays: 7,
    });
    this.boss.on('error', (error: Error) => this.logger.warn(`job queue: ${error.message}`));
  }

  async onModuleInit(): Promise<void> {
    await this.boss.start();
    await this.boss.createQueue(DELIVERY_QUEUE, {
      name: DELIVERY_QUEUE,
      // Retries of the queue cover a worker that died mid-attempt; HTTP failures are scheduled by the service.
      retryLimit: 5,
      retryDelay: 5,
      expireInSeconds: Math.ceil(this.config.webhooks.timeoutMs / 1000) + 60,
    });
  }

  /**
   * Starts this replica's worker (`handler` receives one delivery id at a time): up to
   * `WEBHOOK_CONCURRENCY` jobs handled side by side, each completed or failed on its own as soon as it settles.
   * A fetch asks for as many jobs as there is room for, and the next one goes out as soon as a job finishes
   * (after `POLL_MS` when the last fetch found the queue drained), so a slow endpoint holds up only its own
   * slot, never the deliveries fetched with it. pg-boss's own `work` waits for a whole fetched batch before
   * it fetches again; one job per fetch would need as many polling workers as slots.
   */
  work(handler: (job: DeliveryJob) => Promise<void>): void {
    this.loop ??= this.fetchLoop(handler);
  }

  /** True once the replica shuts down: a walk finishes its attempt in flight and hands on (see `deliver`). */
  get draining(): boolean {
    return this.stopping;
  }

  private async fetchLoop(handler: (job: DeliveryJob) => Promise<void>): Promise<void> {
    const limit = this.config.webhooks.concurrency;
    while (!this.stopping) {
      const room = limit - this.inFlight.size;
      if (room <= 0) {
        await this.wait(null, true);
        continue;
      }
      let jobs: { id: string; data: DeliveryJob }[] = [];
      try {
        jobs = await this.boss.fetch<DeliveryJob>(DELIVERY_QUEUE, { batchSize: room });
      } catch (error) {
        this.logger.warn(`job queue: fetch failed: ${(error as Error).message}`);
      }
      for (const job of jobs) this.handle(job, handler);
      // A full fetch may have left more behind: fetch again as soon as there is room.
      if (jobs.length < room && !this.stopping) await this.wait(POLL_MS, false);
    }
  }

  /** Handles one job; completes it, or fails it back to the queue (its retries) should the handler throw. */
  private handle(job: { id: string; data: DeliveryJob }, handler: (job: DeliveryJob) => Promise<void>): void {
    const settled = (async () => {
      try {
        await handler(job.data);
      } catch (error) {
        await this.boss
          .fail(DELIVERY_QUEUE, job.id, { message: (error as Error).message })
          .catch((failed: Error) => this.logger.warn(`job queue: fail ${job.id}: ${failed.message}`));
        return;
      }
      await this.boss
        .complete(DELIVERY_QUEUE, job.id)
        .catch((failed: Error) => this.logger.warn(`job queue: complete ${job.id}: ${failed.message}`));
    })().finally(() => {
      this.inFlight.delete(job.id);
      if (this.pause?.forRoom) this.pause.end();
    });
    this.inFlight.set(job.id, settled);
  }

  /** Waits `ms` (or until woken when null); shutdown always ends the wait, a finished job when `forRoom`. */
  private wait(ms: number | null, forRoom: boolean): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === null ? undefined : setTimeout(() => end(), ms);
      const end = () => {
        clearTimeout(timer);
        this.pause = undefined;
        resolve();
      };
      this.pause = { end, forRoom };
    });
  }

  /** Enqueues an attempt, inside the current transaction when there is one. */
  async enqueue(job: DeliveryJob, startAfterSeconds = 0): Promise<void> {
    await this.boss.send(DELIVERY_QUEUE, job, {
      startAfter: startAfterSeconds,
      ...this.inTransaction(),
    });
  }

  /** Enqueues the jobs of one transaction's deliveries in one statement, inside that transaction. */
  async enqueueMany(jobs: DeliveryJob[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.boss.insert(
      jobs.map((job) => ({ name: DELIVERY_QUEUE, data: job })),
      this.inTransaction(),
    );
  }

  /**
   * A job that looks at an endpoint again after `seconds`, at most one per endpoint in each such slot (pg-boss
   * throttling by `singletonKey`): the watch on an attempt in flight, whose worker, should it die, leaves the
   * endpoint's later deliveries to this job once the attempt counts as lost.
   */
  async watch(endpointId: string, deliveryId: string, seconds: number): Promise<void> {
    await this.boss.send(DELIVERY_QUEUE, { deliveryId, endpointId } satisfies DeliveryJob, {
      startAfter: seconds,
      singletonKey: `endpoint:${endpointId}`,
      singletonSeconds: seconds,
    });
  }

  private inTransaction(): {
    db?: { executeSql(text: string, values: unknown[]): Promise<{ rows: unknown[] }> };
  } {
    const runner = this.txHost.tx.queryRunner;
    if (!runner || !runner.isTransactionActive) return {};
    return {
      db: {
        executeSql: async (text: string, values: unknown[]) => ({
          rows: (await runner.query(text, values, true)).records as unknown[],
        }),
      },
    };
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.pause?.end();
    await this.loop;
    // Jobs in flight finish their attempt (walks hand on after it); not beyond the attempt timeout: one still
    // unfinished then is failed back to the queue, which hands it out again (its retries).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(this.inFlight.values()),
      new Promise((resolve) => (timer = setTimeout(resolve, this.config.webhooks.timeoutMs + 1000))),
    ]);
    clearTimeout(timer);
    await Promise.all(
      [...this.inFlight.keys()].map((id) =>
        this.boss.fail(DELIVERY_QUEUE, id, { message: 'shut down while active' }).catch(() => undefined),
      ),
    );
    await this.boss.stop({ graceful: false, wait: true }).catch(() => undefined);
  }
}
