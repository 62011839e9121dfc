import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { compileFilter, type FilterAttributeMap } from '../../src/scim/protocol/index.js';

// The SQL the filter compiler writes, run on the real PostgreSQL: each filter must select exactly the users a
// SCIM client means (the unit tests pin the text; this pins the meaning).

const MAP: FilterAttributeMap = {
  username: { type: 'string', sql: 'u.user_name_lower' },
  externalid: { type: 'string', sql: 'u.external_id', caseExact: true },
  displayname: { type: 'string', sql: "lower(u.attributes->>'displayName')" },
  'name.familyname': { type: 'string', sql: "lower(u.attributes#>>'{name,familyName}')" },
  active: { type: 'boolean', sql: 'u.active' },
  'meta.created': { type: 'datetime', sql: 'u.created_at' },
  'meta.lastmodified': { type: 'datetime', sql: 'u.updated_at' },
  'meta.version': { type: 'integer', sql: 'u.version' },
  'emails.value': { type: 'string', sql: 'u.emails_lower', multi: true },
  emails: {
    type: 'string',
    sql: "u.attributes->'emails'",
    subAttributes: { value: { type: 'string' }, type: { type: 'string' }, primary: { type: 'boolean' } },
  },
};

interface Row {
  userName: string;
  externalId: string | null;
  displayName?: string;
  familyName?: string;
  active: boolean;
  created: string;
  version: number;
  emails: { value: string; type: string; primary?: boolean }[];
}

const ROWS: Row[] = [
  {
    userName: 'OMalley',
    externalId: 'Ext-1',
    displayName: 'Owen Malley',
    familyName: 'Employee',
    active: true,
    created: '2015-10-10T21:38:21.900Z',
    version: 1,
    emails: [{ value: 'owen@example.com', type: 'work', primary: true }],
  },
  {
    userName: 'ryan@contoso.com',
    externalId: 'ext-2',
    displayName: 'BobIsAmazing',
    familyName: 'Employee',
    active: false,
    created: '2015-10-10T21:38:21.800Z',
    version: 4,
    emails: [
      { value: 'ryan@home.example.org', type: 'home' },
      { value: 'ryan@contoso.com', type: 'work' },
    ],
  },
  {
    userName: '50%_off',
    externalId: null,
    active: true,
    created: '2020-01-01T00:00:00Z',
    version: 2,
    emails: [],
  },
  {
    userName: '50xyoff',
    externalId: 'ext-4',
    displayName: '',
    active: true,
    created: '2021-06-01T12:00:00Z',
    version: 3,
    emails: [{ value: 'x@contoso.com', type: 'home' }],
  },
];

let client: pg.Client;

beforeAll(async () => {
  client = new pg.Client({ connectionString: inject('postgresAdminUrl') });
  await client.connect();
  await client.query(`CREATE TEMP TABLE u (
    user_name_lower text NOT NULL, external_id text, attributes jsonb NOT NULL, active boolean NOT NULL,
    created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL, version integer NOT NULL, emails_lower text[] NOT NULL)`);
  for (const row of ROWS) {
    const attributes = {
      userName: row.userName,
      ...(row.displayName !== undefined ? { displayName: row.displayName } : {}),
      ...(row.familyName ? { name: { familyName: row.familyName } } : {}),
      ...(row.emails.length > 0 ? { emails: row.emails } : {}),
    };
    await client.query('INSERT INTO u VALUES ($1, $2, $3, $4, $5, $5, $6, $7)', [
      row.userName.toLowerCase(),
      row.externalId,
      attributes,
      row.active,
      row.created,
      row.version,
      row.emails.map((e) => e.value.toLowerCase()),
    ]);
  }
});

afterAll(async () => {
  await client?.end();
});

async function select(filter: string): Promise<string[]> {
  const { sql, params } = compileFilter(filter, MAP, 1);
  // $1 is taken, as a repository's organization id would be.
  const result = await client.query<{ user_name_lower: string }>(
    `SELECT user_name_lower FROM u WHERE $1::int = 1 AND ${sql} ORDER BY user_name_lower`,
    [1, ...params],
  );
  return result.rows.map((r) => r.user_name_lower);
}

describe('compiled SCIM filters on PostgreSQL', () => {
  it.each<[string, string[]]>([
    ['userName eq "OMALLEY"', ['omalley']],
    ['userName eq Test', []],
    ['userName sw O', ['omalley']],
    ['userName ne "omalley"', ['50%_off', '50xyoff', 'ryan@contoso.com']],
    ['userName co "%_"', ['50%_off']],
    ['userName sw "50_"', []],
    ['userName ew "@CONTOSO.com"', ['ryan@contoso.com']],
    ['userName gt "p"', ['ryan@contoso.com']],
    ['externalId eq "ext-1"', []],
    ['externalId eq "Ext-1"', ['omalley']],
    ['externalId eq null', ['50%_off']],
    ['externalId pr', ['50xyoff', 'omalley', 'ryan@contoso.com']],
    ['displayName pr', ['omalley', 'ryan@contoso.com']],
    ['DisplayName eq "BobIsAmazing"', ['ryan@contoso.com']],
    ['active eq "False"', ['ryan@contoso.com']],
    ['not (active eq true)', ['ryan@contoso.com']],
    ['not (displayName eq "owen malley")', ['50%_off', '50xyoff', 'ryan@contoso.com']],
    ['meta.Created gt 2015-10-10T14:38:21.8617979-07:00', ['50%_off', '50xyoff', 'omalley']],
    ['meta.created lt "2016-01-01"', ['omalley', 'ryan@contoso.com']],
    ['meta.version ge 3', ['50xyoff', 'ryan@contoso.com']],
    ['emails.value eq "RYAN@contoso.com"', ['ryan@contoso.com']],
    ['emails.value co "contoso"', ['50xyoff', 'ryan@contoso.com']],
    ['emails.value pr', ['50xyoff', 'omalley', 'ryan@contoso.com']],
    ['emails.value ne "owen@example.com"', ['50%_off', '50xyoff', 'ryan@contoso.com']],
    ['emails pr', ['50xyoff', 'omalley', 'ryan@contoso.com']],
    ['emails[type eq "work" and value co "contoso"]', ['ryan@contoso.com']],
    ['emails[type eq "home" and value co "contoso"]', ['50xyoff']],
    ['emails[type eq "home" and value co "example"]', ['ryan@contoso.com']],
    ['emails[primary eq true]', ['omalley']],
    ['emails[not (type eq "work")]', ['50xyoff', 'ryan@contoso.com']],
    [
      'name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)',
      ['omalley', 'ryan@contoso.com'],
    ],
    ['userName eq "omalley" or userName eq "50xyoff" and active eq false', ['omalley']],
    ['(userName eq "omalley" or userName eq "50xyoff") and active eq true', ['50xyoff', 'omalley']],
  ])('%s', async (filter, expected) => {
    expect(await select(filter)).toEqual(expected);
  });
});
