import { DEMO } from '@entra-integration/entra-emulator';
import { SYSTEM_ACTOR } from '../../src/audit/audit.service.js';
import type { Plan } from '../../src/common/access.js';
import { OrganizationsService } from '../../src/organizations/organizations.service.js';
import { addMember } from './seed.js';
import { bearer, connectTenant, signIn } from './sign-in.js';
import type { TestContext } from './test-app.js';

/**
 * The setups the e2e suites share, built through the API (and the operator's subscription change) as a person
 * would, so each test reads as what it checks.
 */
export interface TestOwner {
  token: string;
  organizationId: string;
  userId: string;
}

export interface EntraToggles {
  autoProvisionUsers?: boolean;
  autoDeprovisionSync?: boolean;
  groupRoleMapping?: boolean;
}

/** Signs in with Microsoft as a person no organization knows yet: the Owner of a new organization, on `plan`. */
export async function ownerOf(
  ctx: TestContext,
  upn: string,
  subscription: { plan?: Plan; seatLimit?: number } = {},
): Promise<TestOwner> {
  const { token, error } = await signIn(ctx, upn);
  if (!token) throw new Error(`sign-in of ${upn} refused: ${error}`);
  const me = await ctx.http().get('/api/v1/me').set(bearer(token)).expect(200);
  if ((subscription.plan && subscription.plan !== 'free') || subscription.seatLimit !== undefined)
    await ctx.app
      .get(OrganizationsService)
      .updateSubscription(me.body.organizationId as string, subscription, SYSTEM_ACTOR);
  return { token, organizationId: me.body.organizationId as string, userId: me.body.id as string };
}

/** An Enterprise organization whose Owner (a tenant administrator) connected its tenant, with `toggles` on. */
export async function connectedOrganization(
  ctx: TestContext,
  adminUpn: string,
  toggles: EntraToggles = {},
  seatLimit = 1000,
): Promise<TestOwner> {
  const owner = await ownerOf(ctx, adminUpn, { plan: 'enterprise', seatLimit });
  const connected = await connectTenant(ctx, owner.token, adminUpn);
  if (connected.status !== 'connected') throw new Error(`connect failed: ${connected.code}`);
  if (Object.keys(toggles).length)
    await ctx
      .http()
      .patch('/api/v1/integrations/entra/settings')
      .set(bearer(owner.token))
      .send(toggles)
      .expect(200);
  return owner;
}

/** A new user in the emulator's directory of `tenantId` (Contoso by default). */
export function directoryUser(
  ctx: TestContext,
  upn: string,
  extra: Record<string, unknown> = {},
  tenantId: string = DEMO.tenants.contoso.id,
) {
  return ctx.emulator.store.addUser({
    tenantId,
    userPrincipalName: upn,
    displayName: upn.split('@')[0],
    ...extra,
  });
}

/** A directory user of the tenant, already linked to a user of the organization with `role`. */
export async function linkedUser(
  ctx: TestContext,
  org: { organizationId: string },
  upn: string,
  role: 'admin' | 'manager' | 'employee' = 'employee',
  tenantId: string = DEMO.tenants.contoso.id,
) {
  const entra = directoryUser(ctx, upn, {}, tenantId);
  const userId = await addMember(
    ctx,
    org.organizationId,
    { id: entra.id, upn, displayName: entra.displayName },
    tenantId,
    role,
  );
  return { entraId: entra.id, userId, upn };
}

/** A SCIM token of the organization, created by its Owner as an admin sets up Entra provisioning. */
export async function scimTokenOf(
  ctx: TestContext,
  owner: TestOwner,
): Promise<{ token: string; id: string }> {
  const created = await ctx
    .http()
    .post('/api/v1/integrations/scim/tokens')
    .set(bearer(owner.token))
    .send({ name: 'Entra provisioning' })
    .expect(201);
  return created.body as { token: string; id: string };
}
