import { describe, expect, it } from 'vitest';
import { SCHEMAS } from './constants.js';
import { project } from './project.js';

const ENTERPRISE = SCHEMAS.ENTERPRISE_USER;

const resource = {
  schemas: [SCHEMAS.USER, ENTERPRISE],
  id: 'u-1',
  externalId: 'e-1',
  userName: 'ryan@contoso.com',
  displayName: 'Ryan',
  name: { givenName: 'Ryan', familyName: 'Leenay' },
  emails: [
    { value: 'ryan@contoso.com', type: 'work', primary: true },
    { value: 'emailName357@home.example.org', type: 'home' },
  ],
  [ENTERPRISE]: { department: 'Sales', employeeNumber: '42' },
  meta: { resourceType: 'User', version: 'W/"3"' },
};

describe('project', () => {
  it('returns the resource unchanged without attributes or excludedAttributes', () => {
    expect(project(resource)).toEqual(resource);
    expect(project(resource, '', ' ')).toEqual(resource);
  });

  it('keeps only the named attributes, case-insensitively, plus id, schemas and meta', () => {
    expect(project(resource, 'USERNAME, Emails')).toEqual({
      schemas: resource.schemas,
      id: 'u-1',
      userName: 'ryan@contoso.com',
      emails: resource.emails,
      meta: resource.meta,
    });
  });

  it('keeps sub-attributes, also inside multi-valued attributes', () => {
    expect(project(resource, 'name.givenName,emails.value')).toMatchObject({
      name: { givenName: 'Ryan' },
      emails: [{ value: 'ryan@contoso.com' }, { value: 'emailName357@home.example.org' }],
    });
    expect(project(resource, 'name.givenName')).not.toHaveProperty('name.familyName');
  });

  it('reads URN-prefixed names: core prefixes mean the plain attribute, an extension URN its object', () => {
    expect(project(resource, `${SCHEMAS.USER}:userName`)).toHaveProperty('userName');
    expect(project(resource, `${ENTERPRISE}:department`)[ENTERPRISE]).toEqual({ department: 'Sales' });
    expect(project(resource, ENTERPRISE.toLowerCase())[ENTERPRISE]).toEqual(resource[ENTERPRISE]);
  });

  it('reads a value filter in attributes as the attribute (Microsoft’s collection sends emails[type eq "work"])', () => {
    const projected = project(resource, 'emails[value eq "emailName357"]');
    expect(JSON.stringify(projected)).toContain('emailName357');
    expect(projected).not.toHaveProperty('userName');
  });

  it('drops excluded attributes and sub-attributes but never id, schemas or meta', () => {
    const projected = project(resource, undefined, 'emails,name.familyName,ID,meta,schemas');
    expect(projected).not.toHaveProperty('emails');
    expect(projected.name).toEqual({ givenName: 'Ryan' });
    expect(projected).toHaveProperty('id', 'u-1');
    expect(projected).toHaveProperty('meta');
    expect(projected).toHaveProperty('schemas');
  });

  it('drops a whole extension by its URN, and members from a group', () => {
    expect(project(resource, undefined, ENTERPRISE)).not.toHaveProperty([ENTERPRISE]);
    const group = { schemas: [SCHEMAS.GROUP], id: 'g-1', displayName: 'Sales', members: [{ value: 'u-1' }] };
    expect(project(group, undefined, 'members')).toEqual({
      schemas: [SCHEMAS.GROUP],
      id: 'g-1',
      displayName: 'Sales',
    });
  });

  it('lets attributes win over excludedAttributes, and always returns what the caller says', () => {
    expect(project(resource, 'displayName', 'displayName')).toHaveProperty('displayName');
    expect(project(resource, 'displayName', undefined, ['userName'])).toHaveProperty('userName');
    expect(project(resource, undefined, 'userName', ['userName'])).toHaveProperty('userName');
  });

  it('does not change the resource it was given', () => {
    const copy = structuredClone(resource);
    project(resource, undefined, 'name.familyName');
    expect(resource).toEqual(copy);
  });
});
