import { describe, expect, it } from 'vitest';
import { tenantAdministratorRole } from './tenant-administrator.js';

const USER = 'b79fbf4d-3ef9-4689-8143-76b194e85509';
const HELPDESK_ADMINISTRATOR = '729827e3-9c14-49f7-bb1b-9608f156bbb8';
const USER_ADMINISTRATOR = 'fe930be7-5e62-47db-91af-98c3a49a38b1';
const GLOBAL_READER = 'f2ef992c-3afb-46b9-b7cf-a126ee74c451';

describe('tenantAdministratorRole', () => {
  it.each([
    ['62e90394-69f5-4237-9190-012177145e10', 'Global Administrator'],
    ['e8611ab8-c189-46e8-94e1-60213ab1f814', 'Privileged Role Administrator'],
    ['9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3', 'Application Administrator'],
    ['158C047A-C907-4556-B7EF-446551A6B5F7', 'Cloud Application Administrator'],
  ])('accepts %s as %s', (templateId, role) => {
    expect(tenantAdministratorRole({ directoryRoleTemplateIds: [USER, templateId] })).toEqual({
      isAdministrator: true,
      role,
    });
  });

  it('refuses roles that cannot grant tenant-wide consent', () => {
    for (const wids of [[USER], [HELPDESK_ADMINISTRATOR, USER], [USER_ADMINISTRATOR], [GLOBAL_READER], []]) {
      expect(tenantAdministratorRole({ directoryRoleTemplateIds: wids })).toEqual({
        isAdministrator: false,
        role: null,
        rolesClaimPresent: true,
      });
    }
  });

  it('tells a token without a wids claim apart from one with no admin role', () => {
    expect(tenantAdministratorRole({ directoryRoleTemplateIds: null })).toEqual({
      isAdministrator: false,
      role: null,
      rolesClaimPresent: false,
    });
  });
});
