import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { describe, expect, it } from 'vitest';
import { Auth, RequiresPlan, Roles, Scopes } from './auth.decorators.js';
import { Authenticators, type CredentialKind } from './authenticators.js';
import { COMMON_ERRORS, DomainError } from './domain-error.js';
import { AuthKindGuard, PlanGuard, RolesGuard, ScopesGuard } from './guards.js';
import type { Principal } from './principal.js';

class Routes {
  @RequiresPlan('enterprise')
  @Roles('owner', 'admin')
  enterpriseAdmin() {}

  @Auth('public')
  open() {}

  undeclared() {}

  @Auth('scim_token')
  integratorOnly() {}

  @Scopes('users:write', 'audit:read')
  keyWrite() {}

  @Auth('session')
  signedIn() {}

  // As on a controller that is `@Auth('session')`: the scopes add the `api_key` kind.
  @Scopes('users:read')
  sessionOrKey() {}
}

function contextFor(
  handler: keyof Routes,
  principal?: Partial<Principal>,
  headers: Record<string, string> = {},
): ExecutionContext {
  return {
    getHandler: () => Routes.prototype[handler],
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => ({ user: principal, headers }) }),
  } as unknown as ExecutionContext;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof DomainError ? error.code : 'unexpected';
  }
  return undefined;
}

describe('the auth-kind guard', () => {
  const guard = new AuthKindGuard(new Reflector(), new Authenticators());

  it('lets public routes through without credentials', async () => {
    await expect(guard.canActivate(contextFor('open'))).resolves.toBe(true);
  });

  it('refuses a route that names no kind: forgetting @Auth never opens a route', async () => {
    await expect(guard.canActivate(contextFor('undeclared'))).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
  });

  it('refuses a SCIM route anything but a SCIM token, and a SCIM token anywhere else, with 401', async () => {
    for (const authorization of [undefined, 'Bearer edk_someapikey', 'Bearer a-session-token']) {
      const headers: Record<string, string> = authorization ? { authorization } : {};
      await expect(guard.canActivate(contextFor('integratorOnly', undefined, headers))).rejects.toMatchObject(
        { code: 'UNAUTHENTICATED' },
      );
    }
    for (const handler of ['undeclared', 'keyWrite', 'enterpriseAdmin'] as const)
      await expect(
        guard.canActivate(contextFor(handler, undefined, { authorization: 'Bearer scim_sometoken' })),
      ).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('cannot combine public with a credential kind', () => {
    expect(() => Auth('public', 'session')).toThrow(/cannot be combined/);
  });
});

describe('the auth-kind guard and its authenticators', () => {
  const authenticators = new Authenticators();
  const guard = new AuthKindGuard(new Reflector(), authenticators);
  const alice = { kind: 'session', userId: 'alice' } as Principal;
  const key = { kind: 'api_key', apiKeyId: 'k1' } as Principal;

  /** Registers `validate` for `kind`, the way the session, API-key and SCIM-token strategies do. */
  function strategy(
    kind: CredentialKind,
    validate: (request: { token?: string }) => Promise<Principal | false>,
  ) {
    authenticators.register(kind, { validate: (request) => validate(request as { token?: string }) });
  }

  function request(handler: keyof Routes, token?: string) {
    const req: { token?: string; headers: object; user?: Principal } = { token, headers: {} };
    const context = {
      getHandler: () => Routes.prototype[handler],
      getClass: () => Routes,
      switchToHttp: () => ({ getRequest: () => req, getResponse: () => ({}) }),
    } as unknown as ExecutionContext;
    return { req, context };
  }

  it('puts the principal the strategy accepts on the request, and refuses what it rejects with a 401', async () => {
    strategy('session', async (r) => (r.token === 'good' ? alice : false));
    const accepted = request('signedIn', 'good');
    await expect(guard.canActivate(accepted.context)).resolves.toBe(true);
    expect(accepted.req.user).toBe(alice);
    const refused = request('signedIn', 'bad');
    await expect(guard.canActivate(refused.context)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(refused.req.user).toBeUndefined();
  });

  it('tries the kinds in turn (the first that accepts wins) and stops at an error', async () => {
    const tried: string[] = [];
    strategy('session', async () => (tried.push('session'), false));
    strategy('api_key', async (r) => {
      tried.push('api_key');
      if (r.token === 'spent') throw new DomainError(COMMON_ERRORS.FORBIDDEN);
      return key;
    });
    const { req, context } = request('sessionOrKey', 'edk_k1');
    await expect(guard.canActivate(context)).resolves.toBe(true);
    expect(req.user).toBe(key);
    expect(tried).toEqual(['session', 'api_key']);
    await expect(guard.canActivate(request('sessionOrKey', 'spent').context)).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
  });

  it('uses the strategy registered now, so a replaced strategy takes effect at once', async () => {
    strategy('session', async () => alice);
    const { context } = request('signedIn', 'any');
    await expect(guard.canActivate(context)).resolves.toBe(true);
    strategy('session', async () => false);
    await expect(guard.canActivate(context)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});

describe('role and plan guards', () => {
  const reflector = new Reflector();
  const roles = new RolesGuard(reflector);
  const plan = new PlanGuard(reflector);

  it('lets an Admin of an Enterprise organization through', () => {
    const ctx = contextFor('enterpriseAdmin', { role: 'admin', plan: 'enterprise' });
    expect(roles.canActivate(ctx)).toBe(true);
    expect(plan.canActivate(ctx)).toBe(true);
  });

  it('refuses Manager and Employee with INSUFFICIENT_ROLE', () => {
    for (const role of ['manager', 'employee'] as const) {
      expect(
        codeOf(() => roles.canActivate(contextFor('enterpriseAdmin', { role, plan: 'enterprise' }))),
      ).toBe('INSUFFICIENT_ROLE');
    }
  });

  it('refuses Free and Team organizations with PLAN_REQUIRED naming the plan', () => {
    for (const current of ['free', 'team'] as const) {
      try {
        plan.canActivate(contextFor('enterpriseAdmin', { role: 'owner', plan: current }));
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(DomainError);
        expect((error as DomainError).code).toBe('PLAN_REQUIRED');
        expect((error as DomainError).extensions).toMatchObject({
          requiredPlan: 'enterprise',
          currentPlan: current,
        });
      }
    }
  });

  it('leaves routes without requirements alone', () => {
    const ctx = contextFor('open', undefined);
    expect(roles.canActivate(ctx)).toBe(true);
    expect(plan.canActivate(ctx)).toBe(true);
  });
});

describe('the scopes guard', () => {
  const scopes = new ScopesGuard(new Reflector());
  const key = (granted: string[]): Partial<Principal> => ({
    kind: 'api_key',
    scopes: granted,
    role: 'admin',
  });

  it('lets a key holding every named scope through, and judges a session by its role alone', () => {
    expect(scopes.canActivate(contextFor('keyWrite', key(['audit:read', 'users:write', 'users:read'])))).toBe(
      true,
    );
    expect(
      scopes.canActivate(contextFor('keyWrite', { kind: 'session', scopes: null, role: 'employee' })),
    ).toBe(true);
  });

  it('names each missing scope', () => {
    try {
      scopes.canActivate(contextFor('keyWrite', key(['users:write'])));
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({
        code: 'INSUFFICIENT_SCOPE',
        extensions: { requiredScopes: ['audit:read'] },
      });
    }
  });

  it('refuses a key on a route that names no scope', () => {
    expect(codeOf(() => scopes.canActivate(contextFor('enterpriseAdmin', key(['users:read']))))).toBe(
      'API_KEY_NOT_ACCEPTED',
    );
  });
});
