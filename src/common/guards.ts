import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { Request } from 'express';
import type { Plan } from '../organizations/entities/organization.entity.js';
import type { Role } from '../users/entities/user.entity.js';
import { IS_PUBLIC, REQUIRED_PLAN, REQUIRED_ROLES } from './auth.decorators.js';
import { DomainError } from './domain-error.js';
import type { Principal } from './principal.js';

export const SESSION_STRATEGY = 'session';

/** Global and default-deny: every route needs a valid session unless it is marked `@Public()`. */
@Injectable()
export class SessionAuthGuard extends AuthGuard(SESSION_STRATEGY) {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    return super.canActivate(context);
  }

  override handleRequest<T>(error: unknown, principal: T | false): T {
    if (error) throw error;
    if (!principal)
      throw new DomainError(
        'UNAUTHENTICATED',
        'unauthenticated',
        'Sign in first: no valid session was presented.',
      );
    return principal;
  }
}

function principalOf(context: ExecutionContext): Principal | undefined {
  return context.switchToHttp().getRequest<Request & { user?: Principal }>().user;
}

@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const roles = this.reflector.getAllAndOverride<Role[]>(REQUIRED_ROLES, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!roles?.length) return true;
    const principal = principalOf(context);
    if (principal && roles.includes(principal.role)) return true;
    throw new DomainError(
      'INSUFFICIENT_ROLE',
      'forbidden',
      `This action requires the role ${roles.join(' or ')}.`,
      {
        requiredRoles: roles,
      },
    );
  }
}

@Injectable()
export class PlanGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const plan = this.reflector.getAllAndOverride<Plan>(REQUIRED_PLAN, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!plan) return true;
    const principal = principalOf(context);
    if (principal?.plan === plan) return true;
    throw new DomainError('PLAN_REQUIRED', 'forbidden', `This feature requires the ${plan} plan.`, {
      requiredPlan: plan,
      currentPlan: principal?.plan ?? null,
    });
  }
}
