import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Principal } from '../../common/principal.js';
import { SCHEMAS, SCIM_CONTENT_TYPE } from '../protocol/index.js';
import { ScimAccessService } from './scim-access.service.js';

export const SELF_TEST_STEPS = [
  'test_connection',
  'create_user',
  'deactivate_user',
  'delete_user',
  'deleted_user_gone',
] as const;
export type SelfTestStepName = (typeof SELF_TEST_STEPS)[number];

export interface SelfTestStep {
  name: SelfTestStepName;
  method: string;
  path: string;
  /** The HTTP status answered; null when the request never got an answer. */
  status: number | null;
  ok: boolean;
  detail: string | null;
  durationMs: number;
}

interface StepPlan {
  name: SelfTestStepName;
  method: string;
  path: () => string;
  body?: () => object;
  expect: (status: number, body: Record<string, unknown>) => string | null;
}

const PATCH_DEACTIVATE = {
  schemas: [SCHEMAS.PATCH_OP],
  // The form Entra sends when a user is unassigned or disabled.
  Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
};

/**
 * Runs, against this process's own `/scim/v2` over loopback HTTP and with a throw-away token, what Entra's Test
 * Connection and a first cycle send for one user: the query of a random userName (200, empty list), a create,
 * a deactivation, a delete, and the 404 after. Stops at the first step that fails; the token is revoked at the
 * end whatever happened. The throw-away user stays, deactivated and hidden from SCIM, as any SCIM-deleted user.
 */
@Injectable()
export class ScimSelfTestService {
  constructor(
    private readonly access: ScimAccessService,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  async run(principal: Principal): Promise<{ ok: boolean; steps: SelfTestStep[] }> {
    const base = this.loopbackBase();
    const probe = randomUUID();
    const userName = `scim-self-test-${probe}@self-test.invalid`;
    let userId = '';
    const plans: StepPlan[] = [
      {
        name: 'test_connection',
        method: 'GET',
        path: () => `/Users?filter=${encodeURIComponent(`userName eq "${randomUUID()}"`)}`,
        expect: (status, body) =>
          status === 200 && body.totalResults === 0 && Array.isArray(body.Resources)
            ? null
            : 'Entra expects 200 with an empty list here; anything else quarantines the provisioning job.',
      },
      {
        name: 'create_user',
        method: 'POST',
        path: () => '/Users',
        body: () => ({
          schemas: [SCHEMAS.USER],
          userName,
          active: true,
          displayName: 'SCIM self-test',
          externalId: probe,
          emails: [{ value: userName, type: 'work', primary: true }],
        }),
        expect: (status, body) => {
          if (status !== 201 || typeof body.id !== 'string')
            return 'Entra expects 201 with the new user’s id.';
          userId = body.id;
          return null;
        },
      },
      {
        name: 'deactivate_user',
        method: 'PATCH',
        path: () => `/Users/${userId}`,
        body: () => PATCH_DEACTIVATE,
        expect: (status) => (status === 200 || status === 204 ? null : 'Entra expects 200 or 204.'),
      },
      {
        name: 'delete_user',
        method: 'DELETE',
        path: () => `/Users/${userId}`,
        expect: (status) => (status === 204 ? null : 'Entra expects 204.'),
      },
      {
        name: 'deleted_user_gone',
        method: 'GET',
        path: () => `/Users/${userId}`,
        expect: (status) => (status === 404 ? null : 'A deleted user must answer 404.'),
      },
    ];

    const steps: SelfTestStep[] = [];
    const { token, secret } = await this.access.createSelfTestToken(principal);
    try {
      for (const plan of plans) {
        const step = await this.step(base, secret, plan);
        steps.push(step);
        if (!step.ok) break;
      }
    } finally {
      await this.access.revokeToken(principal, token.id);
    }
    return { ok: steps.length === plans.length && steps.every((s) => s.ok), steps };
  }

  private async step(base: string | null, secret: string, plan: StepPlan): Promise<SelfTestStep> {
    const path = plan.path();
    const started = Date.now();
    const result = (status: number | null, detail: string | null): SelfTestStep => ({
      name: plan.name,
      method: plan.method,
      path,
      status,
      ok: status !== null && detail === null,
      detail,
      durationMs: Date.now() - started,
    });
    if (!base) return result(null, 'This process does not listen on a port: nothing to test against.');
    try {
      const response = await fetch(`${base}${path}`, {
        method: plan.method,
        headers: {
          Authorization: `Bearer ${secret}`,
          Accept: SCIM_CONTENT_TYPE,
          ...(plan.body ? { 'Content-Type': SCIM_CONTENT_TYPE } : {}),
        },
        body: plan.body ? JSON.stringify(plan.body()) : undefined,
        signal: AbortSignal.timeout(15_000),
      });
      const text = await response.text();
      let body: Record<string, unknown> = {};
      try {
        body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      } catch {
        return result(response.status, 'The answer is not JSON.');
      }
      const problem = plan.expect(response.status, body);
      const said = typeof body.detail === 'string' ? ` The endpoint said: ${body.detail}` : '';
      return result(response.status, problem ? `${problem}${said}` : null);
    } catch (error) {
      return result(null, `No answer: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** This process's own HTTP listener on loopback, or null when it is not listening. */
  private loopbackBase(): string | null {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as
      { address(): AddressInfo | string | null } | undefined;
    const address = server?.address();
    if (!address || typeof address === 'string') return null;
    const unspecified = address.address === '0.0.0.0' || address.address === '::';
    const host = unspecified
      ? '127.0.0.1'
      : address.family === 'IPv6'
        ? `[${address.address}]`
        : address.address;
    return `http://${host}:${address.port}/scim/v2`;
  }
}
