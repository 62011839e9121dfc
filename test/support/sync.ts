import { expect } from 'vitest';
import { bearer } from './sign-in.js';
import type { TestContext } from './test-app.js';

const FINISHED = ['succeeded', 'failed', 'awaiting_approval', 'rejected'];

/** Polls a sync run until it is no longer queued or running, as a UI would. */
export async function waitForRun(ctx: TestContext, token: string, runId: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await ctx
      .http()
      .get(`/api/v1/integrations/entra/sync-runs/${runId}`)
      .set(bearer(token))
      .expect(200);
    if (FINISHED.includes(response.body.status)) return response.body;
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${response.body.status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** "Sync now" and wait for the run to finish. */
export async function syncNow(ctx: TestContext, token: string, dryRun = false) {
  const started = await ctx
    .http()
    .post(`/api/v1/integrations/entra/sync${dryRun ? '?dryRun=true' : ''}`)
    .set(bearer(token));
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  return waitForRun(ctx, token, started.body.id);
}

export async function outcomesOf(ctx: TestContext, token: string, runId: string) {
  const response = await ctx
    .http()
    .get(`/api/v1/integrations/entra/sync-runs/${runId}/outcomes?limit=200`)
    .set(bearer(token))
    .expect(200);
  return response.body.items as { userId: string; outcome: string; reason: string; detail: string | null }[];
}
