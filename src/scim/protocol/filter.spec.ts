import { describe, expect, it } from 'vitest';
import { ScimError } from './errors.js';
import {
  compileFilter,
  equalityOn,
  parseFilter,
  quoteBareValues,
  type FilterAttributeMap,
} from './filter.js';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:user';

/** A map shaped like the users repository's: lower-cased columns, a text[] of emails, a jsonb array. */
const USERS: FilterAttributeMap = {
  username: { type: 'string', sql: 'su.user_name_lower', indexed: true },
  externalid: { type: 'string', sql: 'su.external_id', caseExact: true },
  displayname: { type: 'string', sql: "lower(su.attributes->>'displayName')" },
  'name.familyname': { type: 'string', sql: "lower(su.attributes#>>'{name,familyName}')" },
  active: { type: 'boolean', sql: 'su.active' },
  'meta.lastmodified': { type: 'datetime', sql: 'su.updated_at' },
  'meta.created': { type: 'datetime', sql: 'su.created_at' },
  'emails.value': { type: 'string', sql: 'su.emails_lower', multi: true },
  emails: {
    type: 'string',
    sql: "su.attributes->'emails'",
    subAttributes: { value: { type: 'string' }, type: { type: 'string' }, primary: { type: 'boolean' } },
  },
  [`${ENTERPRISE}:employeenumber`]: {
    type: 'string',
    sql: "lower(su.attributes#>>'{enterprise,employeeNumber}')",
  },
  'meta.version': { type: 'integer', sql: 'su.version' },
};

function expectInvalidFilter(run: () => unknown): ScimError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ScimError);
    expect((error as ScimError).status).toBe(400);
    expect((error as ScimError).scimType).toBe('invalidFilter');
    return error as ScimError;
  }
  throw new Error('expected an invalidFilter ScimError');
}

describe('quoteBareValues', () => {
  it('quotes bare values as Microsoft’s collection sends them', () => {
    expect(quoteBareValues('userName sw O')).toBe('userName sw "O"');
    expect(quoteBareValues('userName eq Test')).toBe('userName eq "Test"');
    expect(quoteBareValues('meta.Created gt 2015-10-10T14:38:21.8617979-07:00')).toBe(
      'meta.Created gt "2015-10-10T14:38:21.8617979-07:00"',
    );
    expect(
      quoteBareValues(
        'name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)',
      ),
    ).toBe(
      'name.FamilyName eq "Employee" and (emails.Value co "example.com" or emails.Value co "example.org")',
    );
  });

  it('leaves quoted strings, JSON literals and numbers alone, and quotes inside strings are untouched', () => {
    expect(quoteBareValues('userName eq "a b and c eq d"')).toBe('userName eq "a b and c eq d"');
    expect(quoteBareValues('userName eq "say \\"eq\\" x"')).toBe('userName eq "say \\"eq\\" x"');
    expect(quoteBareValues('active eq true and x eq null and y gt 10')).toBe(
      'active eq true and x eq null and y gt 10',
    );
    expect(quoteBareValues('emails[type eq work]')).toBe('emails[type eq "work"]');
    expect(quoteBareValues('userName pr and not (title eq x)')).toBe('userName pr and not (title eq "x")');
  });

  it('decodes quoted values as JSON strings (escapes included)', () => {
    expect(compileFilter('userName eq "a\\\\b\\u00e9\\"c"', USERS).params).toEqual(['a\\bé"c']);
    expect(compileFilter('userName eq "ends with \\\\"', USERS).params).toEqual(['ends with \\']);
    expectInvalidFilter(() => compileFilter('userName eq "bad \\q escape"', USERS));
    expectInvalidFilter(() => compileFilter('userName eq "unterminated', USERS));
  });

  it('escapes a backslash in a bare value rather than letting it escape the quote', () => {
    expect(quoteBareValues('userName eq a\\')).toBe('userName eq "a\\\\"');
  });
});

describe('parseFilter', () => {
  it('parses the RFC forms into a tree', () => {
    expect(parseFilter('emails[type eq "work" and value co "@x"]')).toEqual({
      op: '[]',
      attrPath: 'emails',
      valFilter: {
        op: 'and',
        filters: [
          { op: 'eq', attrPath: 'type', compValue: 'work' },
          { op: 'co', attrPath: 'value', compValue: '@x' },
        ],
      },
    });
    expect(parseFilter('not (userName eq "a")')).toEqual({
      op: 'not',
      filter: { op: 'eq', attrPath: 'userName', compValue: 'a' },
    });
  });

  it.each([
    '',
    '   ',
    'bad',
    'userName eq',
    'userName eq "x" or',
    'userName zz "x"',
    '(userName eq "x"',
    'userName eq "x"))',
    'emails[type eq "work"',
  ])('refuses %j as invalidFilter', (filter) => {
    expectInvalidFilter(() => parseFilter(filter));
  });

  it('refuses an absurdly long or deeply nested filter as invalidFilter, not a crash', () => {
    expectInvalidFilter(() => parseFilter(`userName eq "${'x'.repeat(5000)}"`));
    expectInvalidFilter(() => compileFilter(`${'not ('.repeat(40)}userName eq "x"${')'.repeat(40)}`, USERS));
    expectInvalidFilter(() => parseFilter(`${'('.repeat(20000)}userName eq "x"${')'.repeat(20000)}`));
    // Grouping alone does not deepen the tree.
    expect(compileFilter(`${'('.repeat(60)}userName eq "x"${')'.repeat(60)}`, USERS).sql).toBe(
      'su.user_name_lower = $1',
    );
  });
});

describe('equalityOn', () => {
  it('finds the value of a whole-filter equality, attribute case-insensitive', () => {
    expect(equalityOn('userName eq "Ryan@Example.com"', 'userName')).toBe('Ryan@Example.com');
    expect(equalityOn('USERNAME Eq "x"', 'username')).toBe('x');
    expect(equalityOn('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"', 'userName')).toBe('x');
    expect(equalityOn('userName eq Test', 'userName')).toBe('Test');
    expect(equalityOn('externalId eq "ab"', 'externalId')).toBe('ab');
  });

  it('is undefined for anything else', () => {
    expect(equalityOn('userName eq "x" and active eq true', 'userName')).toBeUndefined();
    expect(equalityOn('userName sw "x"', 'userName')).toBeUndefined();
    expect(equalityOn('externalId eq "x"', 'userName')).toBeUndefined();
    expect(equalityOn('userName eq 12', 'userName')).toBeUndefined();
    expect(equalityOn('garbage (', 'userName')).toBeUndefined();
  });
});

describe('compileFilter', () => {
  it('turns userName eq into an indexed equality with the value lower-cased as a parameter', () => {
    expect(compileFilter('userName eq "Ryan@Example.com"', USERS)).toEqual({
      sql: 'su.user_name_lower = $1',
      params: ['ryan@example.com'],
    });
  });

  it('numbers placeholders after paramOffset', () => {
    expect(compileFilter('userName eq "a" and externalId eq "B"', USERS, 2)).toEqual({
      sql: '(su.user_name_lower = $3 AND su.external_id = $4)',
      params: ['a', 'B'],
    });
  });

  it('keeps a caseExact value as it is', () => {
    expect(compileFilter('externalId eq "AbC"', USERS).params).toEqual(['AbC']);
  });

  it('matches attribute names case-insensitively and with the core schema URN', () => {
    expect(compileFilter('DisplayName eq "BobIsAmazing"', USERS).sql).toBe(
      "lower(su.attributes->>'displayName') = $1",
    );
    expect(compileFilter('urn:ietf:params:scim:schemas:core:2.0:User:USERNAME eq "x"', USERS).sql).toBe(
      'su.user_name_lower = $1',
    );
    expect(
      compileFilter('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "7"', USERS)
        .sql,
    ).toBe("lower(su.attributes#>>'{enterprise,employeeNumber}') = $1");
  });

  it('compiles every comparison operator', () => {
    const sql = (op: string) => compileFilter(`userName ${op} "x"`, USERS).sql;
    expect(sql('eq')).toBe('su.user_name_lower = $1');
    expect(sql('ne')).toBe('su.user_name_lower IS DISTINCT FROM $1');
    expect(sql('co')).toBe("su.user_name_lower LIKE $1 ESCAPE '\\'");
    expect(sql('gt')).toBe('su.user_name_lower > $1');
    expect(sql('lt')).toBe('su.user_name_lower < $1');
    expect(sql('ge')).toBe('su.user_name_lower >= $1');
    expect(sql('le')).toBe('su.user_name_lower <= $1');
    expect(compileFilter('userName co "x"', USERS).params).toEqual(['%x%']);
    expect(compileFilter('userName sw "x"', USERS).params).toEqual(['x%']);
    expect(compileFilter('userName ew "x"', USERS).params).toEqual(['%x']);
  });

  it('escapes % and _ (and the escape character) in co/sw/ew values', () => {
    expect(compileFilter('userName co "50%_off\\\\x"', USERS).params).toEqual(['%50\\%\\_off\\\\x%']);
  });

  it('compiles pr as presence (non-empty for strings and arrays)', () => {
    expect(compileFilter('userName pr', USERS).sql).toBe(
      "(su.user_name_lower IS NOT NULL AND su.user_name_lower <> '')",
    );
    expect(compileFilter('active pr', USERS).sql).toBe('su.active IS NOT NULL');
    expect(compileFilter('emails.value pr', USERS).sql).toBe('COALESCE(cardinality(su.emails_lower), 0) > 0');
    expect(compileFilter('emails pr', USERS).sql).toContain('jsonb_array_length');
  });

  it('compiles and, or, not and grouping with the precedence of the tree', () => {
    const { sql, params } = compileFilter(
      'userName eq "a" or not (active eq false and displayName sw "b")',
      USERS,
    );
    expect(sql).toBe(
      "(su.user_name_lower = $1 OR (NOT COALESCE((su.active = $2::boolean AND lower(su.attributes->>'displayName') LIKE $3 ESCAPE '\\'), false)))",
    );
    expect(params).toEqual(['a', false, 'b%']);
  });

  it('reads booleans, also as the strings Entra sends', () => {
    expect(compileFilter('active eq true', USERS).params).toEqual([true]);
    expect(compileFilter('active eq "False"', USERS).params).toEqual([false]);
    expectInvalidFilter(() => compileFilter('active eq "maybe"', USERS));
    expectInvalidFilter(() => compileFilter('active gt true', USERS));
    expectInvalidFilter(() => compileFilter('active co "t"', USERS));
  });

  it('reads ISO date-times, including Microsoft’s seven fraction digits and offsets', () => {
    expect(compileFilter('meta.lastModified gt "2011-05-13T04:42:34Z"', USERS)).toEqual({
      sql: 'su.updated_at > $1::timestamptz',
      params: ['2011-05-13T04:42:34Z'],
    });
    expect(compileFilter('meta.Created gt 2015-10-10T14:38:21.8617979-07:00', USERS).params).toEqual([
      '2015-10-10T14:38:21.8617979-07:00',
    ]);
    expect(compileFilter('meta.lastModified ge "2024-02-29"', USERS).params).toEqual(['2024-02-29']);
  });

  it.each(['yesterday', '2011-13-01T00:00:00Z', '2023-02-29T00:00:00Z', '2011-05-13 04:42', '12'])(
    'refuses the date-time %j as invalidFilter',
    (value) => {
      expectInvalidFilter(() => compileFilter(`meta.lastModified gt "${value}"`, USERS));
    },
  );

  it('refuses co/sw/ew on date-times and integers, and non-integers for integers', () => {
    expectInvalidFilter(() => compileFilter('meta.lastModified co "2011"', USERS));
    expectInvalidFilter(() => compileFilter('meta.version sw "1"', USERS));
    expectInvalidFilter(() => compileFilter('meta.version eq 1.5', USERS));
    expect(compileFilter('meta.version ge 3', USERS)).toEqual({
      sql: 'su.version >= $1::bigint',
      params: [3],
    });
  });

  it('compares with null as IS NULL / IS NOT NULL and refuses other operators with null', () => {
    expect(compileFilter('externalId eq null', USERS).sql).toBe('su.external_id IS NULL');
    expect(compileFilter('externalId ne null', USERS).sql).toBe('su.external_id IS NOT NULL');
    expectInvalidFilter(() => compileFilter('externalId gt null', USERS));
  });

  it('uses the text[] containment for eq on a multi-valued attribute and EXISTS for the others', () => {
    expect(compileFilter('emails.value eq "A@X.com"', USERS)).toEqual({
      sql: 'su.emails_lower @> ARRAY[$1]::text[]',
      params: ['a@x.com'],
    });
    expect(compileFilter('emails.Value co example.com', USERS)).toEqual({
      sql: "EXISTS (SELECT 1 FROM unnest(su.emails_lower) AS scim_u(v) WHERE scim_u.v LIKE $1 ESCAPE '\\')",
      params: ['%example.com%'],
    });
    expect(compileFilter('emails.value ne "a"', USERS).sql).toBe(
      "NOT (COALESCE(su.emails_lower, '{}'::text[]) @> ARRAY[$1]::text[])",
    );
  });

  it('compiles a value path over the jsonb form so all its conditions hold for one element', () => {
    const { sql, params } = compileFilter('emails[type eq "work" and value co "@x"]', USERS);
    expect(sql).toBe(
      "EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(su.attributes->'emails') = 'array' THEN su.attributes->'emails' ELSE '[]'::jsonb END) AS scim_e1(v) WHERE (lower((scim_e1.v->>'type')) = $1 AND lower((scim_e1.v->>'value')) LIKE $2 ESCAPE '\\'))",
    );
    expect(params).toEqual(['work', '%@x%']);
    expect(compileFilter('emails[primary eq "True"]', USERS).params).toEqual([true]);
  });

  it('gives each value path its own element alias', () => {
    const { sql } = compileFilter('emails[type eq "work"] and emails[type eq "home"]', USERS);
    expect(sql).toContain('AS scim_e1(v)');
    expect(sql).toContain('AS scim_e2(v)');
  });

  it('falls back to the text[] for a value path naming one sub-attribute when there is no jsonb form', () => {
    const map: FilterAttributeMap = { 'emails.value': USERS['emails.value'] };
    expect(compileFilter('emails[value eq "a@x.com" or value ew "@y.org"]', map)).toEqual({
      sql: "EXISTS (SELECT 1 FROM unnest(su.emails_lower) AS scim_e1(v) WHERE (scim_e1.v = $1 OR scim_e1.v LIKE $2 ESCAPE '\\'))",
      params: ['a@x.com', '%@y.org'],
    });
    expectInvalidFilter(() => compileFilter('emails[type eq "work" and value eq "a"]', map));
  });

  it('refuses attributes not in the map, also inside value paths', () => {
    const error = expectInvalidFilter(() => compileFilter('nickName eq "x"', USERS));
    expect(error.message).toContain('nickName');
    expectInvalidFilter(() => compileFilter('emails[display eq "x"]', USERS));
    expectInvalidFilter(() => compileFilter('toString eq "x"', USERS));
    expectInvalidFilter(() => compileFilter('__proto__ eq "x"', USERS));
    expectInvalidFilter(() => compileFilter('emails[type eq "work"].value eq "x"', {}));
  });

  it('never puts a value into the SQL text', () => {
    const hostile = `x'; DROP TABLE users; --`;
    const { sql, params } = compileFilter(`userName eq "${hostile}" or displayName co "${hostile}"`, USERS);
    expect(sql).not.toContain('DROP');
    expect(params).toEqual([hostile.toLowerCase(), `%${hostile.toLowerCase()}%`]);
  });

  it('compiles the filters of Microsoft’s collection and of Entra', () => {
    expect(compileFilter('DisplayName eq "BobIsAmazing"', USERS).params).toEqual(['bobisamazing']);
    expect(compileFilter('userName sw O', USERS)).toEqual({
      sql: "su.user_name_lower LIKE $1 ESCAPE '\\'",
      params: ['o%'],
    });
    expect(
      compileFilter(
        'name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)',
        USERS,
      ),
    ).toEqual({
      sql: "(lower(su.attributes#>>'{name,familyName}') = $1 AND (EXISTS (SELECT 1 FROM unnest(su.emails_lower) AS scim_u(v) WHERE scim_u.v LIKE $2 ESCAPE '\\') OR EXISTS (SELECT 1 FROM unnest(su.emails_lower) AS scim_u(v) WHERE scim_u.v LIKE $3 ESCAPE '\\')))",
      params: ['employee', '%example.com%', '%example.org%'],
    });
    expect(compileFilter('meta.Created gt 2015-10-10T14:38:21.8617979-07:00', USERS).sql).toBe(
      'su.created_at > $1::timestamptz',
    );
    expect(compileFilter('userName eq "5c6b2b1c-8a4e-4a63-9a8f-6d6a3c7c5c11"', USERS).sql).toBe(
      'su.user_name_lower = $1',
    );
    expect(compileFilter('externalId eq "e1" and userName eq "u1"', USERS).params).toEqual(['e1', 'u1']);
  });
});

describe('compileFilter under fuzzing', () => {
  /** mulberry32: a small seeded generator, so a failure reproduces. */
  function random(seed: number): () => number {
    let state = seed;
    return () => {
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const pieces = [
    'userName',
    'emails',
    'emails.value',
    'emails[',
    ']',
    'type',
    'active',
    'meta.lastModified',
    'meta.version',
    'nickName',
    'urn:ietf:params:scim:schemas:core:2.0:User:userName',
    'eq',
    'ne',
    'co',
    'sw',
    'ew',
    'gt',
    'lt',
    'ge',
    'le',
    'pr',
    'and',
    'or',
    'not',
    '(',
    ')',
    '"x"',
    '"a\\"b"',
    '"\\q"',
    '"',
    'true',
    'False',
    'null',
    '12',
    '-1.5e3',
    '2011-05-13T04:42:34Z',
    '"2011-13-40T99:00:00Z"',
    'O',
    '%',
    '_',
    '\\',
    "'",
    ';',
    '[',
    '.',
    ' ',
    '',
    '\u0000',
    'é',
    '__proto__',
    'constructor',
  ];

  const attributes = [
    'userName',
    'DisplayName',
    'emails.value',
    'emails.Value',
    'active',
    'meta.lastModified',
    'meta.version',
    'externalId',
    'nickName',
  ];
  const operators = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'lt', 'ge', 'le', 'EQ', 'Sw'];
  const values = [
    '"x"',
    '"a\\"b"',
    'O',
    'true',
    '"False"',
    'null',
    '12',
    '"2011-05-13T04:42:34Z"',
    '2015-10-10T14:38:21.8617979-07:00',
    '"50%_"',
    '""',
  ];

  /** A filter from the grammar, which the mutations below then damage half of the time. */
  function generate(next: () => number, depth: number): string {
    const pick = <T>(list: T[]) => list[Math.floor(next() * list.length)];
    const roll = next();
    if (depth > 3 || roll < 0.45) {
      return next() < 0.1
        ? `${pick(attributes)} pr`
        : `${pick(attributes)} ${pick(operators)} ${pick(values)}`;
    }
    if (roll < 0.65)
      return `${generate(next, depth + 1)} ${pick(['and', 'or', 'AND'])} ${generate(next, depth + 1)}`;
    if (roll < 0.75) return `not (${generate(next, depth + 1)})`;
    if (roll < 0.85) return `(${generate(next, depth + 1)})`;
    return `emails[${pick(['type', 'value', 'primary', 'display'])} ${pick(operators)} ${pick(values)}]`;
  }

  function mutate(filter: string, next: () => number): string {
    const tokens = filter.split(' ');
    const at = Math.floor(next() * tokens.length);
    const roll = next();
    if (roll < 0.25) tokens.splice(at, 1);
    else if (roll < 0.5) tokens.splice(at, 0, pieces[Math.floor(next() * pieces.length)]);
    else if (roll < 0.75) tokens[at] = pieces[Math.floor(next() * pieces.length)];
    else {
      const cut = Math.floor(next() * filter.length);
      return filter.slice(0, cut) + filter.slice(cut + 1 + Math.floor(next() * 3));
    }
    return tokens.join(' ');
  }

  it('only ever throws ScimError invalidFilter, whatever the input (10,000 seeded strings)', () => {
    const next = random(20261201);
    let compiled = 0;
    for (let n = 0; n < 10_000; n += 1) {
      let filter: string;
      if (n % 10 === 0) {
        const parts: string[] = [];
        const length = 1 + Math.floor(next() * 12);
        for (let k = 0; k < length; k += 1) parts.push(pieces[Math.floor(next() * pieces.length)]);
        filter = parts.join(next() < 0.8 ? ' ' : '');
      } else {
        filter = generate(next, 0);
        if (next() < 0.5) filter = mutate(filter, next);
      }
      try {
        const { sql, params } = compileFilter(filter, USERS, 1);
        compiled += 1;
        // Every placeholder is numbered after the offset and matches a parameter.
        const numbers = [...sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]));
        expect(new Set(numbers)).toEqual(new Set(params.map((_, i) => i + 2)));
      } catch (error) {
        if (!(error instanceof ScimError) || error.scimType !== 'invalidFilter' || error.status !== 400) {
          throw new Error(`${JSON.stringify(filter)} threw ${String(error)}`);
        }
      }
    }
    // The generator is not all garbage: a fair share compiles.
    expect(compiled).toBeGreaterThan(1000);
  });
});
