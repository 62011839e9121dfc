import { describe, expect, it } from 'vitest';
import { FILTER_MAX_RESULTS, SCHEMAS } from './constants.js';
import { ScimError, scimErrorBody } from './errors.js';
import { listResponse, parsePaging } from './list.js';
import { coerceBoolean } from './values.js';

describe('listResponse', () => {
  it('always carries Resources, also when empty (Entra’s Test Connection)', () => {
    expect(listResponse([], 0, 1)).toEqual({
      schemas: [SCHEMAS.LIST],
      totalResults: 0,
      startIndex: 1,
      itemsPerPage: 0,
      Resources: [],
    });
  });

  it('counts the page, not the total, as itemsPerPage', () => {
    expect(listResponse([{ id: 'a' }, { id: 'b' }], 5, 1)).toMatchObject({
      totalResults: 5,
      itemsPerPage: 2,
    });
  });
});

describe('parsePaging', () => {
  it('defaults to the first page of maxResults', () => {
    expect(parsePaging({}, FILTER_MAX_RESULTS)).toEqual({ startIndex: 1, count: FILTER_MAX_RESULTS });
  });

  it('reads query strings, caps count and reads startIndex below 1 as 1 (RFC 7644 §3.4.2.4)', () => {
    expect(parsePaging({ startIndex: '3', count: '2' }, 200)).toEqual({ startIndex: 3, count: 2 });
    expect(parsePaging({ count: '5000' }, 200)).toEqual({ startIndex: 1, count: 200 });
    expect(parsePaging({ startIndex: '0', count: '-4' }, 200)).toEqual({ startIndex: 1, count: 0 });
    expect(parsePaging({ startIndex: 7, count: 0 }, 200)).toEqual({ startIndex: 7, count: 0 });
    expect(parsePaging({ startIndex: ['1', '4'] }, 200)).toEqual({ startIndex: 4, count: 200 });
  });

  it.each([
    { startIndex: 'abc' },
    { count: '1.5' },
    { count: '1e3' },
    { startIndex: '99999999999999999999' },
    { count: {} },
  ])('refuses %j with 400 invalidValue', (query) => {
    try {
      parsePaging(query, 200);
      throw new Error('expected a ScimError');
    } catch (error) {
      expect(error).toBeInstanceOf(ScimError);
      expect(error).toMatchObject({ status: 400, scimType: 'invalidValue' });
    }
  });
});

describe('ScimError and scimErrorBody', () => {
  it('renders the SCIM error schema with status as a string', () => {
    expect(scimErrorBody(409, 'userName is taken', 'uniqueness')).toEqual({
      schemas: [SCHEMAS.ERROR],
      status: '409',
      scimType: 'uniqueness',
      detail: 'userName is taken',
    });
    expect(scimErrorBody(404, 'No such user')).toEqual({
      schemas: [SCHEMAS.ERROR],
      status: '404',
      detail: 'No such user',
    });
  });

  it('carries status, detail and scimType', () => {
    const error = new ScimError(400, 'bad filter', 'invalidFilter');
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      status: 400,
      message: 'bad filter',
      detail: 'bad filter',
      scimType: 'invalidFilter',
    });
  });
});

describe('coerceBoolean', () => {
  it.each<[unknown, boolean | undefined]>([
    [true, true],
    [false, false],
    ['True', true],
    ['FALSE', false],
    [' true ', true],
    ['yes', undefined],
    [1, undefined],
    [null, undefined],
    [undefined, undefined],
  ])('%j → %j', (input, expected) => {
    expect(coerceBoolean(input)).toBe(expected);
  });
});
