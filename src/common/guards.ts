import { type CanActivate, type ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { Request } from 'express';
import passport from 'passport';
import { Strategy as CustomStrategy } from 'passport-custom';
import { type Plan, PLANS, planIncludes, type Role } from './access.js';
import {
  AUTH_KIND,
  type AuthKind,
  CALLER_PROFILE,
  REQUIRED_PLAN,
  REQUIRED_ROLES,
  REQUIRED_SCOPES,
} from './auth.decorators.js';
import { COMMON_ERRORS, DomainError } from './domain-error.js';
import { type Principal, wantCallerProfile } from './principal.js';

export const SESSION_STRATEGY = 'session';
export const API_KEY_STRATEGY = 'api_key';
/** Every API key starts with it, so secret scanners recognize a leaked one and no session is mistaken for one. */
export const API_KEY_PREFIX = 'edk_';
export const SCIM_TOKEN_STRATEGY = 'scim_token';
/** Every SCIM token starts with it: secret scanners recognize a leaked one, and no other kind accepts one. */
export const SCIM_TOKEN_PREFIX = 'scim_';

/** The passport strategy behind each credential-bearing kind; a kind without one is refused. */
const STRATEGY_OF: Partial<Record<AuthKind, string>> = {
  session: SESSION_STRATEGY,
  api_key: API_KEY_STRATEGY,
  scim_token: SCIM_TOKEN_STRATEGY,
};

/** The Bearer token of the request, if it has one. */
export function bearerToken(request: Request): string | undefined {
  const header = request.headers?.authorization;
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1];
}

const unauthenticated = () => new DomainError(COMMON_ERRORS.UNAUTHENTICATED);

/** Runs passport with the given strategies (the first that accepts wins) and renders a refusal as a 401. */
function passportGuard(strategies: string[]): CanActivate {
  class StrategyGuard extends AuthGuard(strategies) {
    override handleRequest<T>(error: unknown, principal: T | false): T {
      if (error) throw error;
      if (!principal) throw unauthenticated();
      return principal;
    }
  }
  return new StrategyGuard();
}

/** A request strategy (`passport-custom` under `@nestjs/passport`'s `PassportStrategy`): `validate(request)`. */
type RequestStrategy = InstanceType<typeof CustomStrategy> & {
  validate(request: Request): Promise<Principal | false>;
};

function requestStrategy(name: string): RequestStrategy | undefined {
  const strategy = (passport as unknown as { _strategy(name: string): unknown })._strategy(name);
  return strategy instanceof CustomStrategy &&
    typeof (strategy as Partial<RequestStrategy>).validate === 'function'
    ? (strategy as RequestStrategy)
    : undefined;
}

/**
 * The same decision as `passportGuard` (the first strategy that accepts wins, an error stops the search, each
 * strategy looked up in passport's registry by name), made by calling each strategy's `validate(request)`
 * directly. Every authenticated request passes here, and passport's round trip (a promise, a derived strategy
 * object and a set of callbacks per request and strategy, then `req.logIn`) cost more CPU than the checks
 * themselves. A strategy of another shape goes through passport.
 */
function directGuard(names: string[]): CanActivate {
  const viaPassport = passportGuard(names);
  return {
    async canActivate(context: ExecutionContext): Promise<boolean> {
      const strategies = names.map(requestStrategy);
      if (strategies.some((s) => s === undefined)) return (await viaPassport.canActivate(context)) as boolean;
      const request = context.switchToHttp().getRequest<Request & { user?: Principal }>();
      for (const strategy of strategies as RequestStrategy[]) {
        const principal = await strategy.validate(request);
        if (principal) {
          request.user = principal;
          return true;
        }
      }
      throw unauthenticated();
    },
  };
}

/**
 * Global and default-deny: authenticates every route by the kind its `@Auth(...)` names. A route that names no
 * kind is refused (and logged), so forgetting the decorator can never open a route.
 */
@Injectable()
export class AuthKindGuard implements CanActivate {
  private readonly logger = new Logger(AuthKindGuard.name);
  private readonly guards = new Map<string, CanActivate>();

  constructor(private readonly reflector: Reflector) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const kinds = this.reflector.getAllAndOverride<AuthKind[] | undefined>(AUTH_KIND, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!kinds?.length) {
      this.logger.error(
        `${context.getClass().name}.${context.getHandler().name} declares no @Auth kind: refused`,
      );
      throw unauthenticated();
    }
    if (kinds.includes('public')) return true;
    const request = context.switchToHttp().getRequest<Request>();
    if (this.reflector.get<boolean | undefined>(CALLER_PROFILE, context.getHandler()))
      wantCallerProfile(request);
    const token = bearerToken(request);
    // A SCIM token opens the SCIM endpoint only, and the SCIM endpoint takes nothing else.
    const scimToken = token?.startsWith(SCIM_TOKEN_PREFIX) ?? false;
    if (kinds.includes('scim_token') ? !scimToken : scimToken) throw unauthenticated();
    // A key on a route that does not take one: say so, rather than an ambiguous 401.
    if (token?.startsWith(API_KEY_PREFIX) && !kinds.includes('api_key'))
      throw new DomainError(COMMON_ERRORS.API_KEY_NOT_ACCEPTED);
    const strategies = kinds.flatMap((kind) => STRATEGY_OF[kind] ?? []);
    if (!strategies.length) throw unauthenticated();
    const key = strategies.join(',');
    let guard = this.guards.get(key);
    if (!guard) {
      guard = directGuard(strategies);
      this.guards.set(key, guard);
    }
    return (await guard.canActivate(context)) as boolean;
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
      COMMON_ERRORS.INSUFFICIENT_ROLE,
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
    if (principal && planIncludes(principal.plan, plan)) return true;
    const higher = plan === PLANS[PLANS.length - 1] ? '' : ' or higher';
    throw new DomainError(COMMON_ERRORS.PLAN_REQUIRED, `This feature requires the ${plan} plan${higher}.`, {
      requiredPlan: plan,
      currentPlan: principal?.plan ?? null,
    });
  }
}

/** After authentication: an API key must hold every scope the route names (a session is judged by its role). */
@Injectable()
export class ScopesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const principal = principalOf(context);
    if (principal?.kind !== 'api_key') return true;
    const required =
      this.reflector.getAllAndOverride<string[] | undefined>(REQUIRED_SCOPES, [
        context.getHandler(),
        context.getClass(),
      ]) ?? [];
    // Defence in depth: the auth guard already refuses a key on a route without scopes.
    if (required.length === 0) throw new DomainError(COMMON_ERRORS.API_KEY_NOT_ACCEPTED);
    const missing = required.filter((scope) => !principal.scopes?.includes(scope));
    if (missing.length === 0) return true;
    throw new DomainError(
      COMMON_ERRORS.INSUFFICIENT_SCOPE,
      `This API key lacks the scope ${missing.join(' and ')}.`,
      { requiredScopes: missing },
    );
  }
}
