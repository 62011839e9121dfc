import { MSA_TENANT_ID, ROLE } from './constants.js';
import type { EmulatorFixture, Group, Tenant, User, VerifiedDomain } from './types.js';

export const DEMO = {
  msaTenantId: MSA_TENANT_ID,
  roles: ROLE,
  client: {
    clientId: '91e663f4-e723-42be-9b69-0df429a20609',
    clientSecret: 'demo-secret~Emulator.0nly_not-a-real-secret',
    displayName: 'Directory Integration (demo)',
    redirectUris: [
      'http://localhost:3000/auth/microsoft/callback',
      'http://localhost:3000/auth/microsoft/connect/callback',
      'http://localhost:3000/auth/microsoft/assignment/callback',
    ],
  },
  tenants: {
    contoso: {
      id: '1b78af38-2c37-44d9-a1df-fad64adb86d9',
      displayName: 'Contoso',
      defaultDomain: 'contoso.com',
      initialDomain: 'Contoso.onmicrosoft.com',
    },
    fabrikam: {
      id: '489ff7b6-0b55-4a16-acae-2142d23ea3c4',
      displayName: 'Fabrikam',
      defaultDomain: 'fabrikam.com',
      initialDomain: 'fabrikam.onmicrosoft.com',
    },
    msa: { id: MSA_TENANT_ID, displayName: 'Microsoft Account' },
  },
  users: {
    adele: {
      id: 'af4ef6c5-2707-4117-b5bc-e131f4d7bcca',
      upn: 'adele@contoso.com',
      displayName: 'Adele Vance',
    },
    megan: {
      id: 'ed13aa90-ef11-4592-9038-630d7c8c900c',
      upn: 'megan@contoso.com',
      displayName: 'Megan Bowen',
    },
    disabled: {
      id: '1531bde4-35ec-4caa-9753-47c294f03c03',
      upn: 'disabled.user@contoso.com',
      displayName: 'Disabled User',
    },
    guest: {
      id: '56df8e55-62dd-4d95-a3c8-aea80ad9a2bd',
      upn: 'guest_fabrikam.com#EXT#@Contoso.onmicrosoft.com',
      mail: 'guest@fabrikam.com',
      displayName: 'Guest from Fabrikam',
    },
    diego: {
      id: 'ecc8a3b0-5608-4a36-bc11-ebb868369d6a',
      upn: 'diego@fabrikam.com',
      displayName: 'Diego Siciliani',
    },
    lee: { id: '7d4f8e71-2b6d-4673-acc7-6a57f223098a', upn: 'lee@fabrikam.com', displayName: 'Lee Gu' },
    alex: { id: 'f5f60081-5907-499e-8868-789348ca7d52', upn: 'alex@outlook.com', displayName: 'Alex Wilber' },
  },
  groups: {
    engineering: { id: '9dc4c674-7d4f-48e7-9667-9ad93e4d5e12', displayName: 'Engineering' },
    itAdmins: { id: '596b0f14-6a42-42f6-8f35-4f054fe5a78b', displayName: 'IT Admins' },
  },
} as const;

export function domain(
  name: string,
  flags: { isDefault?: boolean; isInitial?: boolean } = {},
): VerifiedDomain {
  return {
    name,
    isDefault: flags.isDefault ?? false,
    isInitial: flags.isInitial ?? false,
    type: 'Managed',
    capabilities: 'Email, OfficeCommunicationsOnline',
  };
}

/** Drops keys whose value is `undefined` so they cannot overwrite defaults when spread. */
export function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function makeUser(fields: Pick<User, 'tenantId' | 'userPrincipalName'> & Partial<User>): User {
  const displayName = fields.displayName ?? fields.userPrincipalName.split('@')[0];
  const [givenName, ...rest] = displayName.split(' ');
  return {
    id: crypto.randomUUID(),
    displayName,
    givenName: givenName ?? null,
    surname: rest.length > 0 ? rest.join(' ') : null,
    mail: fields.userPrincipalName.includes('#EXT#') ? null : fields.userPrincipalName,
    accountEnabled: true,
    userType: 'Member',
    homeTenantId: null,
    directoryRoles: [],
    deletedAt: null,
    ...definedOnly(fields),
    tenantId: fields.tenantId,
    userPrincipalName: fields.userPrincipalName,
  };
}

export function makeGroup(fields: Pick<Group, 'tenantId' | 'displayName'> & Partial<Group>): Group {
  return {
    id: crypto.randomUUID(),
    securityEnabled: true,
    mailEnabled: false,
    deletedAt: null,
    ...definedOnly(fields),
    tenantId: fields.tenantId,
    displayName: fields.displayName,
  };
}

export function demoFixture(): EmulatorFixture {
  const { contoso, fabrikam } = DEMO.tenants;
  const u = DEMO.users;
  const tenants: Tenant[] = [
    {
      id: contoso.id,
      displayName: contoso.displayName,
      // Mixed case on purpose: Graph hands domain names back as the admin typed them.
      verifiedDomains: [
        domain(contoso.defaultDomain, { isDefault: true }),
        domain(contoso.initialDomain, { isInitial: true }),
      ],
    },
    {
      id: fabrikam.id,
      displayName: fabrikam.displayName,
      verifiedDomains: [
        domain(fabrikam.defaultDomain, { isDefault: true }),
        domain(fabrikam.initialDomain, { isInitial: true }),
      ],
    },
    // Personal accounts have no verified domains an app could rely on.
    { id: MSA_TENANT_ID, displayName: DEMO.tenants.msa.displayName, verifiedDomains: [] },
  ];
  const users: User[] = [
    makeUser({
      id: u.adele.id,
      tenantId: contoso.id,
      userPrincipalName: u.adele.upn,
      displayName: u.adele.displayName,
      directoryRoles: [ROLE.globalAdministrator],
    }),
    makeUser({
      id: u.megan.id,
      tenantId: contoso.id,
      userPrincipalName: u.megan.upn,
      displayName: u.megan.displayName,
    }),
    makeUser({
      id: u.disabled.id,
      tenantId: contoso.id,
      userPrincipalName: u.disabled.upn,
      displayName: u.disabled.displayName,
      accountEnabled: false,
    }),
    makeUser({
      id: u.guest.id,
      tenantId: contoso.id,
      userPrincipalName: u.guest.upn,
      displayName: u.guest.displayName,
      mail: u.guest.mail,
      userType: 'Guest',
      homeTenantId: fabrikam.id,
    }),
    makeUser({
      id: u.diego.id,
      tenantId: fabrikam.id,
      userPrincipalName: u.diego.upn,
      displayName: u.diego.displayName,
      directoryRoles: [ROLE.globalAdministrator],
    }),
    makeUser({
      id: u.lee.id,
      tenantId: fabrikam.id,
      userPrincipalName: u.lee.upn,
      displayName: u.lee.displayName,
    }),
    makeUser({
      id: u.alex.id,
      tenantId: MSA_TENANT_ID,
      userPrincipalName: u.alex.upn,
      displayName: u.alex.displayName,
    }),
  ];
  const groups: Group[] = [
    makeGroup({ ...DEMO.groups.engineering, tenantId: contoso.id }),
    makeGroup({ ...DEMO.groups.itAdmins, tenantId: contoso.id }),
  ];
  return {
    tenants,
    users,
    groups,
    memberships: [{ groupId: DEMO.groups.engineering.id, memberId: u.megan.id }],
    clients: [{ ...DEMO.client, redirectUris: [...DEMO.client.redirectUris] }],
    grants: [],
    // What Contoso's admin assigned to the demo app: the provisioning simulator's scope. Megan comes in through
    // Engineering; the disabled user is provisioned inactive.
    assignments: [
      ...[u.adele.id, u.disabled.id].map((principalId) => ({
        tenantId: contoso.id,
        clientId: DEMO.client.clientId,
        principalId,
        principalType: 'User' as const,
      })),
      ...[DEMO.groups.engineering.id, DEMO.groups.itAdmins.id].map((principalId) => ({
        tenantId: contoso.id,
        clientId: DEMO.client.clientId,
        principalId,
        principalType: 'Group' as const,
      })),
    ],
  };
}
