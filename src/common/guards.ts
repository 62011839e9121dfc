import { type CanActivate, type ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { type Plan, PLANS, planIncludes, type Role } from './access.js';
import {
  AUTH_KIND,
  type AuthKind,
  CALLER_PROFILE,
  REQUIRED_PLAN,
  REQUIRED_ROLES,
  REQUIRED_SCOPES,
} from './auth.decorators.js';
import { Authenticators, type CredentialKind } from './authenticators.js';
import { COMMON_ERRORS, DomainError } from './domain-error.js';
import { type Principal, wantCallerProfile } from './principal.js';

/** Every API key starts with it, so secret scanners recognize a leaked one and no session is mistaken for one. */
export const API_KEY_PREFIX = 'edk_';
/** Every SCIM token starts with it: secret scanners recognize a leaked one, and no other kind accepts one. */
export const SCIM_TOKEN_PREFIX = 'scim_';

/** The Bearer token of the request, if it has one. */
export function bearerToken(request: Request): string | undefined {
  const header = request.headers?.authorization;
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1];
}

const unauthenticated = () => new DomainError(COMMON_ERRORS.UNAUTHENTICATED);

/** What a route's decorators require, read once per route (decorator metadata does not change at run time). */
export interface RouteRules {
  /** The kinds of `@Auth(...)` (or `@Scopes`), handler over controller; empty: the route declared none. */
  kinds: AuthKind[];
  /** The kinds that carry a credential, in the order declared: each one's authenticator is tried in turn. */
  credentials: CredentialKind[];
  callerProfile: boolean;
  roles: Role[];
  plan: Plan | undefined;
  scopes: string[];
}

const rulesByHandler = new WeakMap<object, Map<object, RouteRules>>();

/** The rules of the route `context` runs, read through `reflector` the first time that route is asked for. */
export function routeRules(reflector: Reflector, context: ExecutionContext): RouteRules {
  const handler = context.getHandler();
  const controller = context.getClass();
  let byController = rulesByHandler.get(handler);
  if (!byController) rulesByHandler.set(handler, (byController = new Map()));
  let rules = byController.get(controller);
  if (!rules) {
    const targets = [handler, controller];
    const kinds = reflector.getAllAndOverride<AuthKind[] | undefined>(AUTH_KIND, targets) ?? [];
    rules = {
      kinds,
      credentials: kinds.filter((kind): kind is CredentialKind => kind !== 'public'),
      callerProfile: reflector.get<boolean | undefined>(CALLER_PROFILE, handler) === true,
      roles: reflector.getAllAndOverride<Role[] | undefined>(REQUIRED_ROLES, targets) ?? [],
      plan: reflector.getAllAndOverride<Plan | undefined>(REQUIRED_PLAN, targets),
      scopes: reflector.getAllAndOverride<string[] | undefined>(REQUIRED_SCOPES, targets) ?? [],
    };
    byController.set(controller, rules);
  }
  return rules;
}

/**
 * Global and default-deny: authenticates every route by the kind its `@Auth(...)` names, asking the
 * authenticator registered for each kind in turn (the first that accepts wins; an error ends the search). A
 * route that names no kind is refused (and logged), so forgetting the decorator can never open a route.
 */
@Injectable()
export class AuthKindGuard implements CanActivate {
  private readonly logger = new Logger(AuthKindGuard.name);

  constructor(
    private readonly reflector: Reflector,
    private readonly authenticators: Authenticators,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rules = routeRules(this.reflector, context);
    const { kinds } = rules;
    if (!kinds.length) {
      this.logger.error(
        `${context.getClass().name}.${context.getHandler().name} declares no @Auth kind: refused`,
      );
      throw unauthenticated();
    }
    if (kinds.includes('public')) return true;
    const request = context.switchToHttp().getRequest<Request & { user?: object }>();
    if (rules.callerProfile) wantCallerProfile(request);
    const token = bearerToken(request);
    // A SCIM token opens the SCIM endpoint only, and the SCIM endpoint takes nothing else.
    const scimToken = token?.startsWith(SCIM_TOKEN_PREFIX) ?? false;
    if (kinds.includes('scim_token') ? !scimToken : scimToken) throw unauthenticated();
    // A key on a route that does not take one: say so, rather than an ambiguous 401.
    if (token?.startsWith(API_KEY_PREFIX) && !kinds.includes('api_key'))
      throw new DomainError(COMMON_ERRORS.API_KEY_NOT_ACCEPTED);
    for (const kind of rules.credentials) {
      // Looked up now, not at boot: the registration in force decides.
      const caller = await this.authenticators.of(kind)?.validate(request);
      if (caller) {
        request.user = caller;
        return true;
      }
    }
    throw unauthenticated();
  }
}

function principalOf(context: ExecutionContext): Principal | undefined {
  return context.switchToHttp().getRequest<Request & { user?: Principal }>().user;
}

@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const { roles } = routeRules(this.reflector, context);
    if (!roles.length) return true;
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
    const { plan } = routeRules(this.reflector, context);
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
    const required = routeRules(this.reflector, context).scopes;
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
