import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEMO } from '@entra-integration/entra-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerOf, type TestOwner } from '../support/factory.js';
import { chromiumAvailable, HeadlessPage } from '../support/headless-chromium.js';
import { bearer } from '../support/sign-in.js';
import { createTestContext, type TestContext } from '../support/test-app.js';

/**
 * Swagger UI in headless Chromium, as an admin uses it: Authorize, paste an API key into `api_key`, then
 * "Try it out" on `listUsers`. Needs Debian's Chromium (`apt-get install chromium`, which `.ci/run` does);
 * without it the test is skipped and says why.
 */
describe.skipIf(!chromiumAvailable())('Swagger UI in a browser: Authorize with an API key', () => {
  let ctx: TestContext;
  let owner: TestOwner;
  let key: string;
  let server: Server;
  let baseUrl: string;
  let page: HeadlessPage;

  beforeAll(async () => {
    ctx = await createTestContext();
    owner = await ownerOf(ctx, DEMO.users.adele.upn);
    key = (
      await ctx
        .http()
        .post('/api/v1/api-keys')
        .set(bearer(owner.token))
        .send({ name: 'Swagger try-out', scopes: ['users:read'] })
        .expect(201)
    ).body.key as string;
    server = ctx.app.getHttpServer() as Server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    page = await HeadlessPage.open();
  }, 90_000);
  afterAll(async () => {
    await page?.close();
    await ctx?.close();
  });

  it('sends Authorization: Bearer edk_… on "Try it out" and shows the key’s answer', async () => {
    await page.navigate(`${baseUrl}/docs/`);
    await page.waitFor(`document.querySelector('.btn.authorize')`, 'the Authorize button');
    await page.evaluate(`document.querySelector('.btn.authorize').click()`);
    await page.waitFor(
      `[...document.querySelectorAll('.auth-container')].find((c) => c.textContent.includes('api_key'))`,
      'the api_key form',
    );
    // Typed as a person would: React reads the input event, not a value set behind its back.
    await page.evaluate(`(() => {
      const form = [...document.querySelectorAll('.auth-container')].find((c) => c.textContent.includes('api_key'));
      const input = form.querySelector('input');
      Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(input, ${JSON.stringify(key)});
      input.dispatchEvent(new Event('input', { bubbles: true }));
      form.querySelector('button.authorize').click();
    })()`);
    await page.waitFor(
      `[...document.querySelectorAll('.auth-container')].find((c) => c.textContent.includes('api_key') && c.querySelector('h6')?.textContent === 'Authorized')`,
      'api_key authorized',
    );
    await page.evaluate(`document.querySelector('.auth-container .btn-done').click()`);

    await page.waitFor(`document.querySelector('#operations-users-listUsers')`, 'the listUsers operation');
    await page.evaluate(
      `document.querySelector('#operations-users-listUsers button.opblock-summary-control').click()`,
    );
    await page.waitFor(`document.querySelector('#operations-users-listUsers .try-out__btn')`, 'Try it out');
    await page.evaluate(`document.querySelector('#operations-users-listUsers .try-out__btn').click()`);
    await page.waitFor(`document.querySelector('#operations-users-listUsers .execute')`, 'Execute');
    await page.evaluate(`document.querySelector('#operations-users-listUsers .execute').click()`);
    await page.waitFor(
      `document.querySelector('#operations-users-listUsers .live-responses-table tbody .response-col_status')`,
      'the response',
    );

    const sent = page.events.find(
      (e) =>
        e.method === 'Network.requestWillBeSent' &&
        String((e.params as { request: { url: string } }).request.url).startsWith(`${baseUrl}/api/v1/users`),
    );
    expect(sent, 'the try-out request').toBeDefined();
    const headers = (sent!.params as { request: { headers: Record<string, string> } }).request.headers;
    expect(headers.Authorization ?? headers.authorization).toBe(`Bearer ${key}`);
    const status = await page.evaluate<string>(
      `document.querySelector('#operations-users-listUsers .live-responses-table tbody .response-col_status').textContent`,
    );
    expect(status.trim()).toMatch(/^200/);
    const body = await page.evaluate<string>(
      `document.querySelector('#operations-users-listUsers .live-responses-table tbody .response-col_description').textContent`,
    );
    expect(body).toContain(owner.userId);
  }, 90_000);
});
