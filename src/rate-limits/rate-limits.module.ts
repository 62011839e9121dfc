import { Module } from '@nestjs/common';
import { SignInLimitGuard } from './sign-in-limit.decorator.js';
import { SignInLimitsService } from './sign-in-limits.service.js';

/** Budgets for the browser sign-in and connect flows, shared by all replicas through PostgreSQL. */
@Module({
  providers: [SignInLimitsService, SignInLimitGuard],
  exports: [SignInLimitsService, SignInLimitGuard],
})
export class RateLimitsModule {}
