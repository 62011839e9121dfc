import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Request } from 'express';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { addressKey } from './client-address.js';
import { RateLimitedError } from './rate-limits.errors.js';

/** Created by a migration, never by the library (`tableCreated: true`). */
export const RATE_LIMITS_TABLE = 'rate_limits';
const CLEAN_UP_EVERY_MS = 5 * 60_000;

/**
 * Budgets for the browser redirect flows, counted in PostgreSQL so that every replica shares them.
 *
 * A crowd behind one address (an office NAT, a corporate proxy) produces many successful sign-ins; an
 * attacker produces failed, forged and abandoned ones. So successes only meet a generous ceiling, while
 * failures, and starts that never complete (a start costs one point that its successful completion
 * refunds), have tight budgets per address, and refusals of one Microsoft account have one per account.
 */
@Injectable()
export class SignInLimitsService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(SignInLimitsService.name);
  private readonly successes: RateLimiterPostgres;
  private readonly failuresByAddress: RateLimiterPostgres;
  private readonly failuresByAccount: RateLimiterPostgres;
  private readonly openFlows: RateLimiterPostgres;
  private cleanUp: NodeJS.Timeout | undefined;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly dataSource: DataSource,
  ) {
    const limits = config.signInLimits;
    const limiter = (keyPrefix: string, points: number, durationSeconds: number) =>
      new RateLimiterPostgres({
        // The app's own pool (TypeORM's pg.Pool): no second set of connections to size and close.
        storeClient: dataSource,
        storeType: 'typeorm',
        tableName: RATE_LIMITS_TABLE,
        tableCreated: true,
        clearExpiredByTimeout: false,
        keyPrefix,
        points,
        duration: durationSeconds,
      });
    this.successes = limiter('sign_in_success', limits.successesPerMinute, 60);
    this.failuresByAddress = limiter(
      'sign_in_failure',
      limits.failuresPerAddress,
      limits.failureWindowMinutes * 60,
    );
    this.failuresByAccount = limiter(
      'sign_in_account_failure',
      limits.failuresPerAccount,
      limits.failureWindowMinutes * 60,
    );
    this.openFlows = limiter('sign_in_open', limits.openFlowsPerAddress, limits.openFlowWindowMinutes * 60);
  }

  onModuleInit(): void {
    // One delete for all budgets; not critical, as expired rows are ignored when read anyway.
    this.cleanUp = setInterval(() => {
      this.dataSource
        .query(`DELETE FROM "${RATE_LIMITS_TABLE}" WHERE "expire" < $1`, [Date.now() - 60_000])
        .catch(() => undefined);
    }, CLEAN_UP_EVERY_MS);
    this.cleanUp.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.cleanUp);
  }

  /** Before a redirect flow starts: refuses a spent address, else counts an open flow. */
  async assertMayStart(request: Request): Promise<void> {
    const address = addressKey(request.ip);
    await this.refuseIfSpent([
      [this.failuresByAddress, address],
      [this.successes, address],
    ]);
    try {
      await this.openFlows.consume(address);
    } catch (error) {
      throw this.asRefusal(error);
    }
  }

  /** Before a callback is processed: refuses an address whose failure budget is spent. */
  async assertMayFinish(request: Request): Promise<void> {
    await this.refuseIfSpent([[this.failuresByAddress, addressKey(request.ip)]]);
  }

  /**
   * Before an account's sign-in is decided (its identity is known once the ID token is valid): refuses an
   * account whose refusals are spent.
   */
  async assertAccountMayTry(account: string): Promise<void> {
    await this.refuseIfSpent([[this.failuresByAccount, account]]);
  }

  /** A callback failed (forged, expired, cancelled or refused); `account` when Microsoft named one. */
  async recordFailure(request: Request, options: { account?: string } = {}): Promise<void> {
    await this.bestEffort([
      this.failuresByAddress.penalty(addressKey(request.ip)),
      options.account ? this.failuresByAccount.penalty(options.account) : undefined,
    ]);
  }

  /** A sign-in completed: its start is refunded and it counts towards the ceiling of successes. */
  async recordSuccess(request: Request): Promise<void> {
    const address = addressKey(request.ip);
    await this.bestEffort([this.openFlows.reward(address), this.successes.penalty(address)]);
  }

  /** The outcome has happened already: a lost count must not turn a finished sign-in into an error page. */
  private async bestEffort(writes: (Promise<unknown> | undefined)[]): Promise<void> {
    const results = await Promise.allSettled(writes);
    for (const result of results) {
      if (result.status === 'rejected')
        this.logger.warn(`could not record a sign-in outcome: ${String(result.reason)}`);
    }
  }

  private async refuseIfSpent(checks: [RateLimiterPostgres, string][]): Promise<void> {
    const states = await Promise.all(checks.map(([limiter, key]) => limiter.get(key)));
    const waits = states
      .map((state, i) => (state && state.consumedPoints >= checks[i][0].points ? state.msBeforeNext : 0))
      .filter((ms) => ms > 0);
    if (waits.length > 0) throw new RateLimitedError(toSeconds(Math.max(...waits)));
  }

  private asRefusal(error: unknown): unknown {
    return error instanceof RateLimiterRes ? new RateLimitedError(toSeconds(error.msBeforeNext)) : error;
  }
}

function toSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
