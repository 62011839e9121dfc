import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import PgBoss from 'pg-boss';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';

export const DELIVERY_QUEUE = 'webhook-delivery';

/** Workers per replica, and the jobs each fetches per poll (attempted side by side). */
const WORKERS = 4;
const BATCH = 10;

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
   * Starts this replica's workers (`handler` receives one delivery id at a time). Each worker fetches up to
   * `BATCH` jobs per poll and attempts them side by side: pg-boss waits out the polling interval after each
   * fetch, so one job per fetch capped a replica at about 8 deliveries a second (`npm run bench:webhooks`).
   * A failed job fails its whole batch back to the queue; the others' attempts are already claimed by number,
   * so handing them out again attempts nothing twice.
   */
  async work(handler: (job: DeliveryJob) => Promise<void>): Promise<void> {
    const runBatch = async (jobs: { data: DeliveryJob }[]) => {
      const results = await Promise.allSettled(jobs.map((job) => handler(job.data)));
      const failed = results.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
    };
    // A few workers per replica, so one slow endpoint does not hold up the others.
    for (let i = 0; i < WORKERS; i += 1)
      await this.boss.work<DeliveryJob>(
        DELIVERY_QUEUE,
        { batchSize: BATCH, pollingIntervalSeconds: 0.5 },
        runBatch,
      );
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
    // Not graceful beyond the attempt timeout: an unfinished attempt is handed out again after expiry.
    await this.boss
      .stop({ graceful: true, wait: true, timeout: this.config.webhooks.timeoutMs + 1000 })
      .catch(() => undefined);
  }
}
