import { applyDecorators, createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiExtension, ApiSecurity } from '@nestjs/swagger';
import type { Request } from 'express';
import type { Plan, Role } from './access.js';
import type { Principal } from './principal.js';
import { ApiErrors, ApiErrorsWith, documentErrors, routeHandlers } from './api-errors.decorator.js';
import { COMMON_ERRORS } from './domain-error.js';
import type { ApiKeyScope } from './scopes.js';

/**
 * How a route authenticates. `public` needs no credentials; `session` is the API's own session (cookie or
 * Bearer); `api_key` is an organization's API key (Bearer), named through `@Scopes(...)` only; `scim_token` is
 * an organization's SCIM token (Bearer `scim_…`), for the `/scim/v2` endpoint alone, which takes nothing else.
 */
export const AUTH_KINDS = ['public', 'session', 'api_key', 'scim_token'] as const;
export type AuthKind = (typeof AUTH_KINDS)[number];

export const AUTH_KIND = 'auth:kinds';
export const REQUIRED_ROLES = 'auth:roles';
export const REQUIRED_PLAN = 'auth:plan';
export const REQUIRED_SCOPES = 'auth:scopes';
export const CALLER_PROFILE = 'auth:callerProfile';

// @nestjs/swagger's operation metadata key. ApiOperation() itself cannot be used here: it resets `summary`.
const API_OPERATION = 'swagger/apiOperation';

/** Documents the operation as needing no credentials (`security: []`) and keeps the rest of its documentation. */
const NoSecurityRequired = (): MethodDecorator => (_target, _key, descriptor) => {
  const previous = (Reflect.getMetadata(API_OPERATION, descriptor.value as object) ?? {}) as object;
  Reflect.defineMetadata(API_OPERATION, { ...previous, security: [] }, descriptor.value as object);
  return descriptor;
};

/** The OpenAPI security requirement and 401 of each credential-bearing kind. */
const SECURITY_DOCS: Record<Exclude<AuthKind, 'public'>, () => ClassDecorator & MethodDecorator> = {
  session: () => applyDecorators(ApiBearerAuth('bearer'), ApiCookieAuth('session')),
  api_key: () => ApiSecurity('api_key'),
  // The SCIM endpoint is left out of this document: it describes itself through /scim/v2/Schemas.
  scim_token: () => applyDecorators(),
};

/**
 * Names how a route (or every route of a controller) authenticates. The global guard picks the strategy from it,
 * and the same decorator writes the OpenAPI security requirement, so the documentation cannot drift from what is
 * enforced. A route without it is refused: authentication is default-deny.
 */
export function Auth(...kinds: [AuthKind, ...AuthKind[]]): ClassDecorator & MethodDecorator {
  const unique = [...new Set(kinds)];
  if (unique.includes('public')) {
    if (unique.length > 1) throw new Error(`@Auth('public') cannot be combined with ${unique.join(', ')}`);
    return ((target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
      if (!descriptor)
        throw new Error("@Auth('public') applies to single routes only, never to a controller");
      SetMetadata(AUTH_KIND, unique)(target, key!, descriptor);
      NoSecurityRequired()(target, key!, descriptor);
    }) as ClassDecorator & MethodDecorator;
  }
  return applyDecorators(
    SetMetadata(AUTH_KIND, unique),
    ...unique.map((kind) => SECURITY_DOCS[kind as Exclude<AuthKind, 'public'>]()),
    DocumentUnauthenticated(),
  );
}

/** The 401 of a credential-bearing route; on a controller, of each of its routes that is not public. */
const DocumentUnauthenticated = (): ClassDecorator & MethodDecorator =>
  ((target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => {
    const handlers = descriptor ? [descriptor.value as object] : routeHandlers(target);
    for (const handler of handlers) {
      const kinds = Reflect.getMetadata(AUTH_KIND, handler) as AuthKind[] | undefined;
      if (!descriptor && kinds?.includes('public')) continue;
      documentErrors(handler, [COMMON_ERRORS.UNAUTHENTICATED]);
    }
    return descriptor;
  }) as ClassDecorator & MethodDecorator;

/**
 * Lets an API key call the route (besides a session) when it holds every one of `scopes`; a key without one is
 * refused with 403 `INSUFFICIENT_SCOPE` naming it. The scopes are documented on the operation
 * (`x-required-scopes`) next to the `api_key` security requirement. A route without `@Scopes` never accepts a
 * key: browser flows, key management and owner-only operations stay that way.
 */
export const Scopes = (...scopes: [ApiKeyScope, ...ApiKeyScope[]]): MethodDecorator =>
  applyDecorators(
    SetMetadata(REQUIRED_SCOPES, scopes),
    // The session's documentation comes from the controller's `@Auth('session')`, which every such
    // controller has; swagger adds a method's security requirements to its controller's.
    SetMetadata(AUTH_KIND, ['session', 'api_key']),
    SECURITY_DOCS.api_key(),
    ApiExtension('x-required-scopes', scopes),
    ApiErrors(COMMON_ERRORS.INSUFFICIENT_SCOPE),
    ApiErrorsWith(
      {
        note: 'An API key spent its requests of the minute; `Retry-After` says when to retry.',
        headers: {
          'Retry-After': { description: 'Seconds until a retry can succeed.', schema: { type: 'integer' } },
        },
      },
      COMMON_ERRORS.RATE_LIMITED,
    ),
  );

/** Restricts a route to users holding one of `roles` in their organization. */
export const Roles = (...roles: Role[]) =>
  applyDecorators(SetMetadata(REQUIRED_ROLES, roles), ApiErrors(COMMON_ERRORS.INSUFFICIENT_ROLE));

/** Restricts a route to organizations on `plan` or a higher one; others get 403 `PLAN_REQUIRED` naming it. */
export const RequiresPlan = (plan: Plan) =>
  applyDecorators(SetMetadata(REQUIRED_PLAN, plan), ApiErrors(COMMON_ERRORS.PLAN_REQUIRED));

/**
 * The route answers with the caller's own profile: the credential's lookup reads it along (`Principal.profile`),
 * so the request costs one statement instead of a lookup and then a read of the same user.
 */
export const WithCallerProfile = (): MethodDecorator => SetMetadata(CALLER_PROFILE, true);

export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Principal => {
    const request = context.switchToHttp().getRequest<Request & { user?: Principal }>();
    if (!request.user) throw new Error('CurrentPrincipal used on a route without authentication');
    return request.user;
  },
);
