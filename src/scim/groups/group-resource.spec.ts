import { describe, expect, it } from 'vitest';
import { ScimError } from '../protocol/index.js';
import type { ScimGroupEntity } from './entities/scim-group.entity.js';
import {
  assertIfMatch,
  etagMatches,
  parseGroupWrite,
  parseMemberList,
  toGroupResource,
} from './group-resource.js';

const A = '5c1f0a4e-8d55-4a34-9d7e-2b9a3c1d0e11';
const B = '9e7b2c44-1f0d-4c8a-b6f3-7d2e1a0c5b22';

function scimError(run: () => unknown): ScimError {
  try {
    run();
  } catch (error) {
    if (error instanceof ScimError) return error;
    throw error;
  }
  throw new Error('expected a ScimError');
}

describe('SCIM group resources', () => {
  it('renders a group with members, meta and a weak ETag as its version', () => {
    const group = {
      id: 'b1e2c3d4-0000-4000-8000-000000000001',
      displayName: 'Engineering',
      externalId: '2e0b3c6f-entra-object-id',
      version: 3,
      createdAt: new Date('2026-12-01T10:00:00.000Z'),
      updatedAt: new Date('2026-12-01T11:00:00.000Z'),
    } as ScimGroupEntity;
    expect(
      toGroupResource(group, [{ userId: A, display: 'Megan' }], 'https://api.example.com/scim/v2'),
    ).toEqual({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      id: group.id,
      externalId: '2e0b3c6f-entra-object-id',
      displayName: 'Engineering',
      members: [{ value: A, $ref: `https://api.example.com/scim/v2/Users/${A}`, display: 'Megan' }],
      meta: {
        resourceType: 'Group',
        created: '2026-12-01T10:00:00.000Z',
        lastModified: '2026-12-01T11:00:00.000Z',
        location: `https://api.example.com/scim/v2/Groups/${group.id}`,
        version: 'W/"3"',
      },
    });
    expect(toGroupResource({ ...group, externalId: null }, null, 'x')).not.toHaveProperty('members');
  });

  it('compares ETags weakly, lists and * included', () => {
    expect(etagMatches('W/"3"', 'W/"3"')).toBe(true);
    expect(etagMatches('"3"', 'W/"3"')).toBe(true);
    expect(etagMatches('W/"2", W/"3"', 'W/"3"')).toBe(true);
    expect(etagMatches('*', 'W/"3"')).toBe(true);
    expect(etagMatches('W/"2"', 'W/"3"')).toBe(false);
    expect(etagMatches(undefined, 'W/"3"')).toBe(false);
    expect(scimError(() => assertIfMatch('W/"2"', 3)).status).toBe(412);
    expect(() => assertIfMatch(undefined, 3)).not.toThrow();
  });

  it('reads member lists in every form Entra and the reference collection send', () => {
    expect(
      parseMemberList([{ value: A.toUpperCase() }, { value: B, displayName: 'new User' }, { value: A }]),
    ).toEqual([
      { userId: A, display: null },
      { userId: B, display: 'new User' },
    ]);
    expect(parseMemberList({ Value: A, display: 'Megan' })).toEqual([{ userId: A, display: 'Megan' }]);
    expect(parseMemberList('string id 1')).toBeNull();
    expect(parseMemberList(42)).toBeNull();
    const error = scimError(() => parseMemberList([{ display: 'no id' }]));
    expect([error.status, error.scimType]).toEqual([400, 'invalidValue']);
  });

  it('parses a POST/PUT body, refusing a missing displayName and a foreign schema', () => {
    const notes: string[] = [];
    expect(
      parseGroupWrite(
        {
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
          displayName: 'Sales',
          externalId: 'abc',
          members: 'garbage',
        },
        notes,
      ),
    ).toEqual({ displayName: 'Sales', externalId: 'abc', members: undefined });
    expect(notes).toEqual(['members ignored: a string ("garbage") is not a member list']);
    expect(scimError(() => parseGroupWrite({ externalId: 'x' }, [])).scimType).toBe('invalidValue');
    expect(
      scimError(() =>
        parseGroupWrite({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], displayName: 'x' }, []),
      ).scimType,
    ).toBe('invalidSyntax');
  });
});
