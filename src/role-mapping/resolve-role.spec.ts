import { describe, expect, it } from 'vitest';
import { type Mapping, resolveRole } from './resolve-role.js';

const ENG = '9dc4c674-7d4f-48e7-9667-9ad93e4d5e12';
const IT = '596b0f14-6a42-42f6-8f35-4f054fe5a78b';
const LEADS = '11111111-1111-4111-8111-111111111111';
const mappings: Mapping[] = [
  { groupId: ENG, groupDisplayName: 'Engineering', role: 'employee' },
  { groupId: LEADS, groupDisplayName: 'Team leads', role: 'manager' },
  { groupId: IT, groupDisplayName: 'IT Admins', role: 'admin' },
];

describe('resolveRole', () => {
  it('gives the most privileged role among matching groups', () => {
    expect(
      resolveRole({ role: 'employee', source: 'default', groupId: null }, [ENG, LEADS, IT], mappings),
    ).toEqual({
      role: 'admin',
      source: 'group_mapping',
      groupId: IT,
      groupDisplayName: 'IT Admins',
    });
    expect(
      resolveRole({ role: 'employee', source: 'default', groupId: null }, [ENG, LEADS], mappings).role,
    ).toBe('manager');
  });

  it('lets group membership override a manual or invited role', () => {
    expect(
      resolveRole({ role: 'employee', source: 'manual', groupId: null }, [LEADS], mappings),
    ).toMatchObject({
      role: 'manager',
      source: 'group_mapping',
    });
    expect(
      resolveRole({ role: 'admin', source: 'invitation', groupId: null }, [ENG], mappings),
    ).toMatchObject({
      role: 'employee',
      source: 'group_mapping',
    });
  });

  it('demotes to Employee a user who left the mapped group', () => {
    expect(resolveRole({ role: 'admin', source: 'group_mapping', groupId: IT }, [], mappings)).toEqual({
      role: 'employee',
      source: 'default',
      groupId: null,
      groupDisplayName: null,
    });
  });

  it('keeps a role set by hand or by invitation when no group matches', () => {
    expect(
      resolveRole({ role: 'manager', source: 'manual', groupId: null }, ['other'], mappings),
    ).toMatchObject({
      role: 'manager',
      source: 'manual',
    });
    expect(resolveRole({ role: 'admin', source: 'invitation', groupId: null }, [], mappings)).toMatchObject({
      role: 'admin',
      source: 'invitation',
    });
  });

  it('never touches an Owner', () => {
    expect(resolveRole({ role: 'owner', source: 'default', groupId: null }, [ENG], mappings)).toMatchObject({
      role: 'owner',
      source: 'default',
    });
    expect(resolveRole({ role: 'owner', source: 'manual', groupId: null }, [], mappings).role).toBe('owner');
  });

  it('does not depend on the order of the claims or the case of ids', () => {
    const tie: Mapping[] = [
      { groupId: 'b0000000-0000-4000-8000-000000000000', groupDisplayName: 'B', role: 'manager' },
      { groupId: 'a0000000-0000-4000-8000-000000000000', groupDisplayName: 'A', role: 'manager' },
    ];
    const one = resolveRole(
      { role: 'employee', source: 'default', groupId: null },
      ['B0000000-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000000'],
      tie,
    );
    const two = resolveRole(
      { role: 'employee', source: 'default', groupId: null },
      ['a0000000-0000-4000-8000-000000000000', 'b0000000-0000-4000-8000-000000000000'],
      tie,
    );
    expect(one).toEqual(two);
    expect(one.groupDisplayName).toBe('A');
  });
});
