import { Module } from '@nestjs/common';
import { ApiKeyLimitsService } from './api-key-limits.service.js';
import { SignInLimitGuard } from './sign-in-limit.decorator.js';
import { SignInLimitsService } from './sign-in-limits.service.js';

/** Budgets for the browser sign-in and connect flows, shared by all replicas through PostgreSQL. */
@Module({
  providers: [SignInLimitsService, SignInLimitGuard, ApiKeyLimitsService],
  exports: [SignInLimitsService, SignInLimitGuard, ApiKeyLimitsService],
})
export class RateLimitsModule {}
