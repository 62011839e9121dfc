import { applyDecorators, createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiCookieAuth, ApiBearerAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Request } from 'express';
import type { Plan } from '../organizations/entities/organization.entity.js';
import type { Role } from '../users/entities/user.entity.js';
import type { Principal } from './principal.js';
import { ProblemDocumentDto } from './problem.dto.js';

export const IS_PUBLIC = 'auth:public';
export const REQUIRED_ROLES = 'auth:roles';
export const REQUIRED_PLAN = 'auth:plan';

// @nestjs/swagger's operation metadata key. ApiOperation() itself cannot be used here: it resets `summary`.
const API_OPERATION = 'swagger/apiOperation';

/** Marks the operation as needing no credentials (`security: []`) and keeps the rest of its documentation. */
const NoSecurityRequired = (): MethodDecorator => (_target, _key, descriptor) => {
  const previous = (Reflect.getMetadata(API_OPERATION, descriptor.value as object) ?? {}) as object;
  Reflect.defineMetadata(API_OPERATION, { ...previous, security: [] }, descriptor.value as object);
  return descriptor;
};

/** Opts a route out of the global default-deny authentication guard. */
export const Public = () => applyDecorators(SetMetadata(IS_PUBLIC, true), NoSecurityRequired());

/** Marks a route as needing a signed-in user (the default); documents the security scheme and the 401. */
export const Authenticated = () =>
  applyDecorators(
    ApiBearerAuth('bearer'),
    ApiCookieAuth('session'),
    ApiUnauthorizedResponse({
      description: 'No valid session (`UNAUTHENTICATED`).',
      type: ProblemDocumentDto,
    }),
  );

/** Restricts a route to users holding one of `roles` in their organization. */
export const Roles = (...roles: Role[]) =>
  applyDecorators(
    SetMetadata(REQUIRED_ROLES, roles),
    Authenticated(),
    ApiForbiddenResponse({
      description: `Requires the role ${roles.join(' or ')} (\`INSUFFICIENT_ROLE\`).`,
      type: ProblemDocumentDto,
    }),
  );

/** Restricts a route to organizations on `plan`; others get 403 `PLAN_REQUIRED` naming it. */
export const RequiresPlan = (plan: Plan) =>
  applyDecorators(
    SetMetadata(REQUIRED_PLAN, plan),
    ApiForbiddenResponse({
      description: `Requires the ${plan} plan (\`PLAN_REQUIRED\`, with \`requiredPlan\`) or a role the route names (\`INSUFFICIENT_ROLE\`).`,
      type: ProblemDocumentDto,
    }),
  );

export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Principal => {
    const request = context.switchToHttp().getRequest<Request & { user?: Principal }>();
    if (!request.user) throw new Error('CurrentPrincipal used on a route without authentication');
    return request.user;
  },
);
