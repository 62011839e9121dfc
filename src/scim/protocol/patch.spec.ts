import { describe, expect, it } from 'vitest';
import { SCHEMAS } from './constants.js';
import { ScimError, type ScimType } from './errors.js';
import { applyPatch, normalisePatch, parsePatchPath, type PatchOperation } from './patch.js';

const ENTERPRISE = SCHEMAS.ENTERPRISE_USER;
const ENTERPRISE_LOWER = ENTERPRISE.toLowerCase();

function body(...operations: unknown[]): unknown {
  return { schemas: [SCHEMAS.PATCH_OP], Operations: operations };
}

function patch(resource: Record<string, unknown>, ...operations: unknown[]): Record<string, unknown> {
  return applyPatch(resource, normalisePatch(body(...operations)));
}

function expectScimError(run: () => unknown, scimType: ScimType): ScimError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ScimError);
    expect((error as ScimError).status).toBe(400);
    expect((error as ScimError).scimType).toBe(scimType);
    return error as ScimError;
  }
  throw new Error(`expected a ScimError ${scimType}`);
}

function user(): Record<string, unknown> {
  return {
    schemas: [SCHEMAS.USER, ENTERPRISE],
    id: '7d5b1f3e-2f4a-4c1e-9a51-3b1b2d0e9c10',
    externalId: 'e-1',
    userName: 'ryan@contoso.com',
    active: true,
    displayName: 'Ryan',
    name: { givenName: 'Ryan', familyName: 'Leenay' },
    emails: [
      { value: 'ryan@contoso.com', type: 'work', primary: true },
      { value: 'ryan@home.example.org', type: 'home' },
    ],
    [ENTERPRISE]: { department: 'Sales', manager: { value: 'boss-id' } },
    meta: { resourceType: 'User', version: 'W/"1"' },
  };
}

function group(members: string[] = []): Record<string, unknown> {
  return {
    schemas: [SCHEMAS.GROUP],
    id: 'a4f2a1a0-3c0f-4bfe-8a8a-0d9c9f3b2e11',
    displayName: 'Sales',
    members: members.map((value) => ({ value })),
    meta: { resourceType: 'Group' },
  };
}

describe('parsePatchPath', () => {
  it('splits and lower-cases attribute, sub-attribute, filter and schema', () => {
    expect(parsePatchPath('name.givenName')).toEqual({ attribute: 'name', subAttribute: 'givenname' });
    expect(parsePatchPath('emails[type eq "work"].value')).toEqual({
      attribute: 'emails',
      valueFilter: 'type eq "work"',
      subAttribute: 'value',
    });
    expect(parsePatchPath('members[value eq "2819c223"]')).toEqual({
      attribute: 'members',
      valueFilter: 'value eq "2819c223"',
    });
    expect(parsePatchPath(`${ENTERPRISE}:manager`)).toEqual({
      attribute: 'manager',
      schema: ENTERPRISE_LOWER,
    });
    expect(parsePatchPath(`${ENTERPRISE.toUpperCase()}:Manager.Value`)).toEqual({
      attribute: 'manager',
      subAttribute: 'value',
      schema: ENTERPRISE_LOWER,
    });
    expect(parsePatchPath(`${SCHEMAS.USER}:userName`)).toEqual({ attribute: 'username' });
    expect(parsePatchPath('urn:ietf:params:scim:schemas:extension:Custom:2.0:User:costCode')).toEqual({
      attribute: 'costcode',
      schema: 'urn:ietf:params:scim:schemas:extension:custom:2.0:user',
    });
  });

  it.each([
    '',
    'name..givenName',
    'emails[type eq',
    'emails[type zz "w"]',
    'urn:',
    ENTERPRISE,
    '1abc',
    'a b',
  ])('refuses %j as invalidPath', (path) => {
    expectScimError(() => parsePatchPath(path), 'invalidPath');
  });
});

describe('normalisePatch', () => {
  it('accepts op in any case and keeps the operations in order', () => {
    const operations = normalisePatch(
      body(
        { op: 'Replace', path: 'userName', value: 'a' },
        { op: 'ADD', path: 'displayName', value: 'b' },
        { op: 'remove', path: 'title' },
      ),
    );
    expect(operations.map((o) => [o.op, o.path?.attribute])).toEqual([
      ['replace', 'username'],
      ['add', 'displayname'],
      ['remove', 'title'],
    ]);
  });

  it('turns "True"/"False" into booleans for active and primary, and leaves other strings alone', () => {
    expect(normalisePatch(body({ op: 'Replace', path: 'active', value: 'False' }))[0].value).toBe(false);
    expect(normalisePatch(body({ op: 'replace', path: 'active', value: 'TRUE' }))[0].value).toBe(true);
    expect(
      normalisePatch(body({ op: 'add', path: 'emails', value: [{ value: 'a@x.com', primary: 'True' }] }))[0]
        .value,
    ).toEqual([{ value: 'a@x.com', primary: true }]);
    expect(normalisePatch(body({ op: 'replace', path: 'displayName', value: 'True' }))[0].value).toBe('True');
  });

  it('keeps JSON null values', () => {
    expect(normalisePatch(body({ op: 'replace', path: 'name.givenName', value: null }))[0].value).toBeNull();
  });

  it('expands a path-less replace with dotted and enterprise-URN keys into one op per attribute', () => {
    const operations = normalisePatch(
      body({
        op: 'replace',
        value: {
          displayName: 'Ryan L',
          'name.givenName': 'Ry',
          [`${ENTERPRISE}:department`]: 'Marketing',
          [`${ENTERPRISE}:manager`]: { value: 'm-2' },
          active: 'False',
          [ENTERPRISE]: { costCenter: 'CC-1' },
        },
      }),
    );
    expect(operations).toEqual<PatchOperation[]>([
      { op: 'replace', path: { attribute: 'displayname' }, value: 'Ryan L' },
      { op: 'replace', path: { attribute: 'name', subAttribute: 'givenname' }, value: 'Ry' },
      { op: 'replace', path: { attribute: 'department', schema: ENTERPRISE_LOWER }, value: 'Marketing' },
      { op: 'replace', path: { attribute: 'manager', schema: ENTERPRISE_LOWER }, value: { value: 'm-2' } },
      { op: 'replace', path: { attribute: 'active' }, value: false },
      { op: 'replace', path: { attribute: 'costcenter', schema: ENTERPRISE_LOWER }, value: 'CC-1' },
    ]);
  });

  it('reads Operations and its fields case-insensitively and ignores extra fields such as name and id', () => {
    const operations = normalisePatch({
      id: 'g-1',
      schemas: [SCHEMAS.PATCH_OP.toLowerCase()],
      operations: [{ name: 'addMember', OP: 'add', Path: 'members', Value: [{ value: 'u-4' }] }],
    });
    expect(operations).toEqual([{ op: 'add', path: { attribute: 'members' }, value: [{ value: 'u-4' }] }]);
  });

  it.each<[string, unknown, ScimType]>([
    ['a body that is not an object', 'nope', 'invalidSyntax'],
    ['a missing PatchOp schema', { Operations: [{ op: 'add', path: 'a', value: 1 }] }, 'invalidSyntax'],
    ['an empty Operations array', body(), 'invalidSyntax'],
    ['Operations that are not an array', { schemas: [SCHEMAS.PATCH_OP], Operations: {} }, 'invalidSyntax'],
    ['an operation that is not an object', body('add'), 'invalidSyntax'],
    ['an unknown op', body({ op: 'move', path: 'a', value: 1 }), 'invalidSyntax'],
    ['an add without a value', body({ op: 'add', path: 'displayName' }), 'invalidSyntax'],
    ['a path-less add whose value is not an object', body({ op: 'add', value: 'x' }), 'invalidSyntax'],
    ['a remove without a path', body({ op: 'remove' }), 'noTarget'],
    ['a path that is not a string', body({ op: 'add', path: 7, value: 1 }), 'invalidPath'],
    [
      'a path-less key with a filter',
      body({ op: 'replace', value: { 'emails[type eq "work"]': 'x' } }),
      'invalidPath',
    ],
  ])('refuses %s', (_, input, scimType) => {
    expectScimError(() => normalisePatch(input), scimType);
  });
});

describe('applyPatch', () => {
  it('replaces active from the string "False" as Entra disables a user', () => {
    expect(patch(user(), { op: 'Replace', path: 'active', value: 'False' }).active).toBe(false);
  });

  it('applies operations in order and leaves the input untouched', () => {
    const original = user();
    const result = patch(
      original,
      { op: 'replace', path: 'userName', value: 'first' },
      { op: 'replace', path: 'userName', value: 'second' },
    );
    expect(result.userName).toBe('second');
    expect(original.userName).toBe('ryan@contoso.com');
  });

  it('changes nothing when one operation fails (all or nothing)', () => {
    const original = user();
    expect(() =>
      patch(
        original,
        { op: 'replace', path: 'displayName', value: 'x' },
        { op: 'replace', path: 'id', value: 'other' },
      ),
    ).toThrow(ScimError);
    expect(original.displayName).toBe('Ryan');
  });

  it('sets a filtered sub-attribute: emails[type eq "work"].value', () => {
    const result = patch(user(), {
      op: 'Replace',
      path: 'emails[type eq "work"].value',
      value: 'new@contoso.com',
    });
    expect(result.emails).toEqual([
      { value: 'new@contoso.com', type: 'work', primary: true },
      { value: 'ryan@home.example.org', type: 'home' },
    ]);
  });

  it('creates the element a filtered Add names when there is none yet (as Entra adds a first work email)', () => {
    const bare = { ...user(), emails: undefined };
    const result = patch(bare, { op: 'Add', path: 'emails[type eq "work"].value', value: 'w@contoso.com' });
    expect(result.emails).toEqual([{ type: 'work', value: 'w@contoso.com' }]);
    const phones = patch(user(), {
      op: 'Add',
      path: 'phoneNumbers[type eq "mobile"].value',
      value: '+1 555 0100',
    });
    expect(phones.phoneNumbers).toEqual([{ type: 'mobile', value: '+1 555 0100' }]);
  });

  it('refuses a filtered replace that matches nothing and cannot be created as noTarget', () => {
    expectScimError(
      () => patch(user(), { op: 'replace', path: 'emails[value co "zzz"].type', value: 'x' }),
      'noTarget',
    );
  });

  it('removes a filtered sub-attribute, and filtered values', () => {
    const subRemoved = patch(user(), { op: 'remove', path: 'emails[type eq "home"].type' });
    expect(subRemoved.emails).toEqual([
      { value: 'ryan@contoso.com', type: 'work', primary: true },
      { value: 'ryan@home.example.org' },
    ]);
    const removed = patch(user(), { op: 'remove', path: 'emails[type eq "home"]' });
    expect(removed.emails).toEqual([{ value: 'ryan@contoso.com', type: 'work', primary: true }]);
  });

  it('sets and removes sub-attributes of a complex attribute, creating it when missing', () => {
    expect(patch(user(), { op: 'Add', path: 'name.givenName', value: 'Barbara' }).name).toEqual({
      givenName: 'Barbara',
      familyName: 'Leenay',
    });
    const fresh = patch(
      { schemas: [SCHEMAS.USER], id: 'x', userName: 'u' },
      { op: 'add', path: 'name.familyName', value: 'J' },
    );
    expect(fresh.name).toEqual({ familyName: 'J' });
    expect(patch(user(), { op: 'remove', path: 'name.givenName' }).name).toEqual({ familyName: 'Leenay' });
  });

  it('treats Add on a single-valued attribute as replace', () => {
    expect(patch(user(), { op: 'Add', path: 'displayName', value: 'Other' }).displayName).toBe('Other');
    expect(patch(user(), { op: 'Add', path: 'externalId', value: 'e-2' }).externalId).toBe('e-2');
  });

  it('removes an attribute given JSON null, and a sub-attribute given null inside a complex value', () => {
    const result = patch(
      user(),
      { op: 'replace', path: 'displayName', value: null },
      { op: 'replace', path: 'name', value: { givenName: null, familyName: 'New' } },
    );
    expect(result).not.toHaveProperty('displayName');
    expect(result.name).toEqual({ familyName: 'New' });
    const emptied = patch(user(), {
      op: 'replace',
      value: { 'name.givenName': null, 'name.familyName': null },
    });
    expect(emptied).not.toHaveProperty('name');
  });

  it('applies a path-less replace with dotted and enterprise-URN keys (aadOptscim062020 form)', () => {
    const result = patch(user(), {
      op: 'replace',
      value: {
        displayName: 'Ryan L',
        'name.givenName': 'Ry',
        [`${ENTERPRISE}:department`]: 'Marketing',
        [`${ENTERPRISE}:manager`]: 'm-2',
        active: 'False',
      },
    });
    expect(result).toMatchObject({
      displayName: 'Ryan L',
      active: false,
      name: { givenName: 'Ry', familyName: 'Leenay' },
    });
    expect(result[ENTERPRISE]).toEqual({ department: 'Marketing', manager: { value: 'm-2' } });
  });

  it('accepts the enterprise manager as its bare id and removes it with an empty one', () => {
    const added = patch(user(), { op: 'Add', path: `${ENTERPRISE}:manager`, value: 'm-3' });
    expect(added[ENTERPRISE]).toEqual({ department: 'Sales', manager: { value: 'm-3' } });
    const cleared = patch(user(), { op: 'Replace', path: `${ENTERPRISE}:manager`, value: '' });
    expect(cleared[ENTERPRISE]).toEqual({ department: 'Sales' });
  });

  it('creates the extension object and lists its schema when the resource had none', () => {
    const plain = { schemas: [SCHEMAS.USER], id: 'x', userName: 'u' };
    const result = patch(plain, { op: 'add', path: `${ENTERPRISE}:employeeNumber`, value: '42' });
    expect(result[ENTERPRISE]).toEqual({ employeeNumber: '42' });
    expect(result.schemas).toEqual([SCHEMAS.USER, ENTERPRISE]);
  });

  it('writes attribute names in their canonical spelling and matches existing keys case-insensitively', () => {
    const result = patch(
      user(),
      { op: 'add', path: 'NICKNAME', value: 'Ry' },
      { op: 'replace', path: 'DISPLAYNAME', value: 'R' },
    );
    expect(result.nickName).toBe('Ry');
    expect(result.displayName).toBe('R');
    expect(Object.keys(result)).not.toContain('DISPLAYNAME');
  });

  it('appends to a multi-valued attribute without duplicates and keeps a single primary', () => {
    const result = patch(user(), {
      op: 'add',
      path: 'emails',
      value: [
        { value: 'RYAN@contoso.com', type: 'work' },
        { value: 'other@contoso.com', type: 'other', primary: 'True' },
      ],
    });
    expect(result.emails).toEqual([
      { value: 'RYAN@contoso.com', type: 'work', primary: false },
      { value: 'ryan@home.example.org', type: 'home' },
      { value: 'other@contoso.com', type: 'other', primary: true },
    ]);
  });

  it('replaces all values of a multi-valued attribute, and removes the whole attribute', () => {
    expect(
      patch(user(), { op: 'replace', path: 'emails', value: [{ value: 'only@x.com', type: 'work' }] }).emails,
    ).toEqual([{ value: 'only@x.com', type: 'work' }]);
    expect(patch(user(), { op: 'remove', path: 'emails' })).not.toHaveProperty('emails');
  });

  it('refuses a multi-valued attribute given values that are not objects', () => {
    expectScimError(() => patch(user(), { op: 'add', path: 'emails', value: 'a@x.com' }), 'invalidValue');
  });

  it('refuses read-only attributes (id, meta, groups, the product extension) unless the value stays the same', () => {
    expectScimError(() => patch(user(), { op: 'replace', path: 'id', value: 'other' }), 'mutability');
    expectScimError(
      () => patch(user(), { op: 'add', path: 'groups', value: [{ value: 'g' }] }),
      'mutability',
    );
    expectScimError(
      () => patch(user(), { op: 'replace', path: `${SCHEMAS.PRODUCT_USER}:status`, value: 'active' }),
      'mutability',
    );
    // Entra's path-less group replace repeats the id; the same id is no change.
    expect(
      patch(group(), { op: 'replace', value: { id: group().id, displayName: 'Renamed' } }).displayName,
    ).toBe('Renamed');
    const custom = applyPatch(user(), normalisePatch(body({ op: 'replace', path: 'userName', value: 'x' })), {
      readOnly: ['externalId'],
    });
    expect(custom.userName).toBe('x');
    expectScimError(
      () =>
        applyPatch(user(), normalisePatch(body({ op: 'replace', path: 'externalId', value: 'x' })), {
          readOnly: ['externalId'],
        }),
      'mutability',
    );
  });

  it('refuses a filter on a single-valued attribute and sub-attributes of a simple one', () => {
    expectScimError(
      () => patch(user(), { op: 'replace', path: 'displayName[value eq "x"]', value: 'y' }),
      'invalidPath',
    );
    expectScimError(
      () => patch(user(), { op: 'replace', path: 'displayName.first', value: 'y' }),
      'invalidPath',
    );
  });

  it('does nothing when removing from an extension or a value the resource does not have', () => {
    const plain = { schemas: [SCHEMAS.USER], id: 'x', userName: 'u' };
    expect(patch(plain, { op: 'remove', path: `${ENTERPRISE}:manager` })).toEqual(plain);
    expect(patch(plain, { op: 'remove', path: 'emails[type eq "work"]' })).toEqual(plain);
  });
});

describe('applyPatch on group members', () => {
  it('adds several members in one operation, once each', () => {
    const result = patch(group(['u-1']), {
      op: 'Add',
      path: 'members',
      value: [{ value: 'u-1' }, { value: 'u-2' }, { value: 'u-3' }],
    });
    expect(result.members).toEqual([{ value: 'u-1' }, { value: 'u-2' }, { value: 'u-3' }]);
  });

  it('removes members given as a value array (Entra’s default form)', () => {
    const result = patch(group(['u-1', 'u-2', 'u-3']), {
      op: 'Remove',
      path: 'members',
      value: [{ value: 'u-1' }, { value: 'u-3' }],
    });
    expect(result.members).toEqual([{ value: 'u-2' }]);
  });

  it('removes a member given as members[value eq "…"] (the aadOptscim062020 form)', () => {
    const result = patch(group(['u-1', 'u-2']), { op: 'remove', path: 'members[value eq "u-2"]' });
    expect(result.members).toEqual([{ value: 'u-1' }]);
  });

  it('removes every member', () => {
    expect(patch(group(['u-1', 'u-2']), { op: 'remove', path: 'members' })).not.toHaveProperty('members');
  });

  it('refuses a bare string as the member list with invalidValue', () => {
    const error = expectScimError(
      () => patch(group(), { op: 'add', path: 'members', value: 'string id 1' }),
      'invalidValue',
    );
    expect(error.message).toContain('members');
  });

  it('replaces the display name as Entra renames a group', () => {
    expect(patch(group(), { op: 'Replace', path: 'displayName', value: 'Sales EMEA' }).displayName).toBe(
      'Sales EMEA',
    );
  });
});

describe('the PATCH requests of Microsoft’s collection', () => {
  const id4 = '5c6b2b1c-8a4e-4a63-9a8f-6d6a3c7c5c11';

  it('patch user1: replace userName', () => {
    expect(patch(user(), { op: 'replace', path: 'userName', value: 'ryan3' }).userName).toBe('ryan3');
  });

  it('Patch add user4 to group1, remove them by filter, add again, then remove all users', () => {
    const add = {
      name: 'addMember',
      op: 'add',
      path: 'members',
      value: [{ displayName: 'new User', value: id4 }],
    };
    let g = patch(group(), add);
    expect(g.members).toEqual([{ displayName: 'new User', value: id4 }]);
    g = patch(g, { op: 'remove', path: `members[value eq "${id4}"]` });
    expect(g).not.toHaveProperty('members');
    g = patch(g, add);
    expect(g.members).toEqual([{ displayName: 'new User', value: id4 }]);
    g = patch(g, { op: 'remove', path: 'members' });
    expect(g).not.toHaveProperty('members');
  });

  it('Patch user omalley new username ("Replace") and active with a boolean', () => {
    const renamed = patch(user(), { op: 'Replace', path: 'userName', value: 'newusername' });
    expect(renamed.userName).toBe('newusername');
    expect(patch(renamed, { op: 'Replace', path: 'active', value: false }).active).toBe(false);
  });

  it('Group patch add member with a bare string value: normalised, then refused by applyPatch for the caller to skip', () => {
    const operations = normalisePatch({
      id: 'g-1',
      Operations: [{ op: 'add', path: 'members', value: 'string id 1' }],
      schemas: [SCHEMAS.PATCH_OP],
    });
    expect(operations).toEqual([{ op: 'add', path: { attribute: 'members' }, value: 'string id 1' }]);
    expectScimError(() => applyPatch(group(), operations), 'invalidValue');
  });
});
