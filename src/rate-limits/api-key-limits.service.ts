import { Inject, Injectable } from '@nestjs/common';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { ApiKeyRateLimitedError } from './rate-limits.errors.js';
import { RATE_LIMITS_TABLE } from './sign-in-limits.service.js';

const WINDOW_SECONDS = 60;

/** What a client is told about its budget (IETF draft `RateLimit` header fields). */
export interface RateLimitState {
  limit: number;
  remaining: number;
  resetSeconds: number;
}

/** Each API key's own budget of requests per minute, counted in PostgreSQL so every replica shares it. */
@Injectable()
export class ApiKeyLimitsService {
  private readonly limiter: RateLimiterPostgres;

  constructor(@Inject(APP_CONFIG) config: AppConfig, dataSource: DataSource) {
    this.limiter = new RateLimiterPostgres({
      storeClient: dataSource,
      storeType: 'typeorm',
      tableName: RATE_LIMITS_TABLE,
      tableCreated: true,
      clearExpiredByTimeout: false,
      keyPrefix: 'api_key',
      points: config.apiKeyRequestsPerMinute,
      duration: WINDOW_SECONDS,
    });
  }

  /** The policy, as the `RateLimit-Policy` header states it. */
  get policy(): string {
    return `${this.limiter.points};w=${WINDOW_SECONDS}`;
  }

  /** Counts one request of the key; a spent budget throws `ApiKeyRateLimitedError` (429) with the state. */
  async consume(apiKeyId: string): Promise<RateLimitState> {
    try {
      return this.stateOf(await this.limiter.consume(apiKeyId));
    } catch (error) {
      if (error instanceof RateLimiterRes) throw new ApiKeyRateLimitedError(this.stateOf(error));
      throw error;
    }
  }

  private stateOf(result: RateLimiterRes): RateLimitState {
    return {
      limit: this.limiter.points,
      remaining: Math.max(0, result.remainingPoints),
      resetSeconds: Math.max(1, Math.ceil(result.msBeforeNext / 1000)),
    };
  }
}
