import type { TestContext } from './test-app.js';

/**
 * Links an emulator user to an existing organization with a role, as invitations and auto-provisioning will
 * once they exist. Until then the API offers no way to add a second user to an organization.
 */
export async function addMember(
  ctx: TestContext,
  organizationId: string,
  member: { id: string; upn: string; displayName: string },
  tenantId: string,
  role: 'owner' | 'admin' | 'manager' | 'employee',
): Promise<string> {
  const user = await ctx.sql.query(
    `INSERT INTO users (organization_id, email, display_name, role) VALUES ($1, $2, $3, $4) RETURNING id`,
    [organizationId, member.upn.toLowerCase(), member.displayName, role],
  );
  const userId = user.rows[0].id as string;
  await ctx.sql.query(
    `INSERT INTO microsoft_identities (user_id, tenant_id, object_id, user_principal_name) VALUES ($1, $2, $3, $4)`,
    [userId, tenantId, member.id, member.upn],
  );
  return userId;
}
