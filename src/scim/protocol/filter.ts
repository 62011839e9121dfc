import scimFilter from 'scim2-parse-filter';
import { CORE_SCHEMAS_LOWER } from './schemas.js';
import { ScimError } from './errors.js';
import { coerceBoolean } from './values.js';

/** The filter tree (the AST of the `scim2-parse-filter` package). */
export type ScimFilter = scimFilter.Filter;
type Compare = scimFilter.Compare;

export type FilterAttributeType = 'string' | 'boolean' | 'datetime' | 'integer';

export interface FilterSubAttribute {
  type: FilterAttributeType;
  /** false (default) → compared case-insensitively (the element's text is lower-cased in SQL). */
  caseExact?: boolean;
  /** The JSON key inside each element when it is not the map key itself (e.g. `'$ref'`). */
  key?: string;
}

export interface FilterAttribute {
  type: FilterAttributeType;
  /**
   * SQL expression of the column, e.g. 'su.user_name_lower'. For a string attribute that is not caseExact it
   * must already be lower-cased (a `*_lower` column or `lower(...)`): the value is lower-cased, the column is
   * not wrapped, so an index on it is used. For `multi`: a text[] expression. With `subAttributes`: a jsonb
   * array expression (e.g. `su.attributes->'emails'`).
   */
  sql: string;
  /** false (default) → compare lower(value) against a lower-cased column/expr */
  caseExact?: boolean;
  /** multi-valued sub-attribute stored as text[] (lower-cased unless caseExact): eq → `sql @> ARRAY[$n]`, others via EXISTS unnest */
  multi?: boolean;
  /**
   * A complex multi-valued attribute stored as a jsonb array of objects (keyed by the attribute itself, e.g.
   * 'emails'): its filterable sub-attributes by lower-cased name. A value path
   * `emails[type eq "work" and value co "@x"]` — and `emails.value …` when the map has no own entry for it —
   * become `EXISTS (SELECT 1 FROM jsonb_array_elements(...) e(v) WHERE …)`, so every condition of one value
   * path holds for the same element.
   */
  subAttributes?: Record<string, FilterSubAttribute>;
  /** documentation only */
  indexed?: boolean;
}

export type FilterAttributeMap = Record<string, FilterAttribute>;

const COMPARISON_OPERATORS = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'lt', 'ge', 'le']);
const MAX_FILTER_LENGTH = 4096;
const MAX_DEPTH = 32;

function invalidFilter(detail: string): ScimError {
  return new ScimError(400, detail, 'invalidFilter');
}

interface Scanned {
  /** The filter with every string value (quoted, or bare as Microsoft sends it) replaced by a placeholder. */
  text: string;
  /** The decoded values, by placeholder index. */
  literals: string[];
}

const PLACEHOLDER = /^(\d+)$/;

/**
 * One pass over the filter outside the parser: bare comparison values (`userName sw O`,
 * `meta.created gt 2015-10-10T14:38:21-07:00`), which Microsoft's collection sends and the strict grammar
 * refuses, become strings; and every string is decoded here as the JSON string RFC 7644 says it is (the parser
 * keeps backslashes other than `\"` literally) and handed to the parser as a plain placeholder. A JSON literal
 * (true, false, null) or a JSON number stays as it is.
 */
function scan(filter: string): Scanned {
  let text = '';
  const literals: string[] = [];
  const placeholder = (value: string) => {
    literals.push(value);
    return `"${literals.length - 1}"`;
  };
  let i = 0;
  // The two words before the current one, outside strings: `<attrPath> <op>` means a value comes next.
  let previous: string | undefined;
  let beforePrevious: string | undefined;
  const isDelimiter = (c: string) => /\s/.test(c) || c === '(' || c === ')' || c === '[' || c === ']';
  while (i < filter.length) {
    const c = filter[i];
    if (c === '"') {
      let j = i + 1;
      while (j < filter.length && filter[j] !== '"') j += filter[j] === '\\' ? 2 : 1;
      if (j >= filter.length) throw invalidFilter('The filter has an unterminated string');
      let value: unknown;
      try {
        value = JSON.parse(filter.slice(i, j + 1));
      } catch {
        throw invalidFilter('The filter has a string that is not a valid JSON string');
      }
      text += placeholder(value as string);
      i = j + 1;
      beforePrevious = previous;
      previous = '"';
      continue;
    }
    if (isDelimiter(c)) {
      text += c;
      i += 1;
      if (!/\s/.test(c)) {
        beforePrevious = previous;
        previous = c;
      }
      continue;
    }
    let j = i;
    while (j < filter.length && !isDelimiter(filter[j]) && filter[j] !== '"') j += 1;
    const word = filter.slice(i, j);
    const expectsValue =
      previous !== undefined &&
      COMPARISON_OPERATORS.has(previous.toLowerCase()) &&
      beforePrevious !== undefined &&
      /^[A-Za-z$]/.test(beforePrevious) &&
      !['and', 'or', 'not'].includes(beforePrevious.toLowerCase());
    const literal = /^(true|false|null)$/.test(word) || /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(word);
    text += expectsValue && !literal ? placeholder(word) : word;
    i = j;
    beforePrevious = previous;
    previous = word;
  }
  return { text, literals };
}

/** The filter with its bare comparison values quoted (what the parser sees, before placeholders). */
export function quoteBareValues(filter: string): string {
  const { text, literals } = scan(filter);
  return text.replace(/"(\d+)"/g, (_, index: string) => JSON.stringify(literals[Number(index)]));
}

/** RFC 7644 attrPath: `[URN ":"] ATTRNAME ["." subAttr]`. */
const ATTRIBUTE_PATH = /^(?:urn:[\w.:-]+:)?[A-Za-z$][\w$-]*(?:\.[A-Za-z$][\w$-]*)?$/i;

/**
 * Puts the decoded strings back and checks the tree's shape: the parser accepts a few strings the grammar does
 * not (such as `a eq "1" not (b eq "2")`, read as an infix `not`), so what it returns is verified, not trusted.
 */
function checkedTree(node: unknown, literals: string[]): ScimFilter {
  const bad = () => invalidFilter('The filter is not valid SCIM filter syntax (RFC 7644 §3.4.2.2)');
  if (!node || typeof node !== 'object') throw bad();
  const candidate = node as Record<string, unknown>;
  const op = candidate.op;
  const path = (value: unknown): string => {
    if (typeof value !== 'string' || !ATTRIBUTE_PATH.test(value)) throw bad();
    return value;
  };
  if (op === 'and' || op === 'or') {
    const filters = candidate.filters;
    if (!Array.isArray(filters) || filters.length < 2) throw bad();
    return { op, filters: filters.map((f) => checkedTree(f, literals)) };
  }
  if (op === 'not') return { op, filter: checkedTree(candidate.filter, literals) };
  if (op === '[]')
    return { op, attrPath: path(candidate.attrPath), valFilter: checkedTree(candidate.valFilter, literals) };
  if (op === 'pr') return { op, attrPath: path(candidate.attrPath) };
  if (typeof op === 'string' && COMPARISON_OPERATORS.has(op)) {
    let value = candidate.compValue;
    if (typeof value === 'string') {
      const match = PLACEHOLDER.exec(value);
      if (!match) throw bad();
      value = literals[Number(match[1])];
    } else if (value !== null && typeof value !== 'boolean' && typeof value !== 'number') {
      throw bad();
    }
    return {
      op: op as Compare['op'],
      attrPath: path(candidate.attrPath),
      compValue: value as Compare['compValue'],
    };
  }
  throw bad();
}

/** Parses a SCIM filter into its tree; bad syntax → ScimError 400 invalidFilter. */
export function parseFilter(filter: string): ScimFilter {
  if (typeof filter !== 'string' || filter.trim() === '') throw invalidFilter('The filter is empty');
  if (filter.length > MAX_FILTER_LENGTH) {
    throw invalidFilter(`The filter is longer than ${MAX_FILTER_LENGTH} characters`);
  }
  const { text, literals } = scan(filter.trim());
  let tree: unknown;
  try {
    tree = scimFilter.parse(text);
  } catch {
    // The parser throws plain Errors (and a RangeError on absurd nesting); its messages show placeholders,
    // not the filter, so say it in our words.
    throw invalidFilter('The filter is not valid SCIM filter syntax (RFC 7644 §3.4.2.2)');
  }
  return checkedTree(tree, literals);
}

/** Lower-cases an attribute path and drops a core-schema URN prefix (`urn:…:core:2.0:User:userName` → `username`). */
export function normaliseAttributePath(path: string): string {
  const lower = path.toLowerCase();
  for (const core of CORE_SCHEMAS_LOWER) {
    if (lower.startsWith(`${core}:`)) return lower.slice(core.length + 1);
  }
  return lower;
}

/** The value when the whole filter is `<attribute> eq "v"` (attribute case-insensitive), else undefined. */
export function equalityOn(filter: string, attribute: string): string | undefined {
  let tree: ScimFilter;
  try {
    tree = parseFilter(filter);
  } catch {
    return undefined;
  }
  if (tree.op !== 'eq') return undefined;
  const compare = tree as Compare;
  if (normaliseAttributePath(compare.attrPath) !== normaliseAttributePath(attribute)) return undefined;
  return typeof compare.compValue === 'string' ? compare.compValue : undefined;
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** ISO 8601 date-time as RFC 7643 §2.3.5 requires (xsd:dateTime); the date part alone is accepted too. */
const DATETIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

function datetimeValue(value: unknown, attribute: string): string {
  if (typeof value !== 'string' || !DATETIME.test(value)) {
    throw invalidFilter(`${attribute} compares with an ISO 8601 date-time`);
  }
  // JavaScript's parser caps fractions at milliseconds; check the calendar on a trimmed copy.
  const trimmed = value.replace(/(\.\d{3})\d+/, '$1');
  const time = Date.parse(/T/i.test(trimmed) ? trimmed : `${trimmed}T00:00:00Z`);
  if (Number.isNaN(time)) throw invalidFilter(`${attribute} compares with an ISO 8601 date-time`);
  const [, month, day] = /^\d{4}-(\d{2})-(\d{2})/.exec(value) ?? [];
  const probe = new Date(Date.UTC(Number(value.slice(0, 4)), Number(month) - 1, Number(day)));
  if (probe.getUTCMonth() !== Number(month) - 1 || probe.getUTCDate() !== Number(day)) {
    throw invalidFilter(`${attribute} compares with an ISO 8601 date-time`);
  }
  return value;
}

interface Resolved {
  attribute: FilterAttribute | FilterSubAttribute;
  /** SQL of the value itself (scalar), or of the text[] (multi). */
  sql: string;
  multi: boolean;
  /** Wrap the comparison in this (EXISTS over jsonb elements), with `%s` for the condition. */
  wrap?: (condition: string) => string;
}

class Compiler {
  readonly params: unknown[] = [];
  private aliases = 0;

  constructor(
    private readonly attributes: FilterAttributeMap,
    private readonly paramOffset: number,
  ) {}

  private param(value: unknown): string {
    this.params.push(value);
    return `$${this.paramOffset + this.params.length}`;
  }

  private lookup(path: string): FilterAttribute | undefined {
    return Object.prototype.hasOwnProperty.call(this.attributes, path) ? this.attributes[path] : undefined;
  }

  /** `attributeName.sub` where the map has a jsonb array entry for the attribute (and none for the path). */
  private splitComplex(
    path: string,
  ): { parent: FilterAttribute; sub: string; parentPath: string } | undefined {
    const dot = path.lastIndexOf('.');
    if (dot < 0) return undefined;
    const parentPath = path.slice(0, dot);
    const parent = this.lookup(parentPath);
    const sub = path.slice(dot + 1);
    if (!parent?.subAttributes || !Object.prototype.hasOwnProperty.call(parent.subAttributes, sub))
      return undefined;
    return { parent, sub, parentPath };
  }

  private elementSql(alias: string, sub: string, definition: FilterSubAttribute): string {
    const text = `(${alias}.v->>'${(definition.key ?? sub).replace(/'/g, "''")}')`;
    switch (definition.type) {
      case 'boolean':
        return `(lower(${text}) = 'true')`;
      case 'datetime':
        return `${text}::timestamptz`;
      case 'integer':
        return `${text}::numeric`;
      default:
        return definition.caseExact ? text : `lower(${text})`;
    }
  }

  private resolve(
    rawPath: string,
    element?: { alias: string; parent: FilterAttribute; parentPath: string },
  ): Resolved {
    const path = normaliseAttributePath(rawPath);
    if (element) {
      const subAttributes = element.parent.subAttributes ?? {};
      const sub = path.startsWith(`${element.parentPath}.`)
        ? path.slice(element.parentPath.length + 1)
        : path;
      if (!Object.prototype.hasOwnProperty.call(subAttributes, sub)) {
        throw invalidFilter(`Filtering on ${element.parentPath}.${sub} is not supported`);
      }
      const definition = subAttributes[sub];
      return { attribute: definition, sql: this.elementSql(element.alias, sub, definition), multi: false };
    }
    const direct = this.lookup(path);
    if (direct && !direct.subAttributes)
      return { attribute: direct, sql: direct.sql, multi: direct.multi === true };
    const complex = this.splitComplex(path);
    if (complex) {
      const alias = this.alias();
      const definition = complex.parent.subAttributes![complex.sub];
      return {
        attribute: definition,
        sql: this.elementSql(alias, complex.sub, definition),
        multi: false,
        wrap: (condition) => this.exists(complex.parent, alias, condition),
      };
    }
    throw invalidFilter(`Filtering on ${rawPath} is not supported`);
  }

  private alias(): string {
    this.aliases += 1;
    return `scim_e${this.aliases}`;
  }

  private exists(parent: FilterAttribute, alias: string, condition: string): string {
    return `EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(${parent.sql}) = 'array' THEN ${parent.sql} ELSE '[]'::jsonb END) AS ${alias}(v) WHERE ${condition})`;
  }

  compile(
    node: ScimFilter,
    depth: number,
    element?: { alias: string; parent: FilterAttribute; parentPath: string },
  ): string {
    if (depth > MAX_DEPTH) throw invalidFilter(`The filter nests deeper than ${MAX_DEPTH} levels`);
    switch (node.op) {
      case 'and':
      case 'or': {
        const filters = (node as scimFilter.LogExp).filters;
        return `(${filters.map((f) => this.compile(f, depth + 1, element)).join(node.op === 'and' ? ' AND ' : ' OR ')})`;
      }
      case 'not':
        return `(NOT COALESCE(${this.compile((node as scimFilter.NotFilter).filter, depth + 1, element)}, false))`;
      case '[]':
        return this.valuePath(node as scimFilter.ValuePath, depth, element);
      case 'pr':
        return this.present((node as scimFilter.Suffix).attrPath, element);
      default:
        if (COMPARISON_OPERATORS.has(node.op)) return this.compare(node as Compare, element);
        throw invalidFilter(`Unknown filter operator ${node.op}`);
    }
  }

  private valuePath(
    node: scimFilter.ValuePath,
    depth: number,
    element?: { alias: string; parent: FilterAttribute; parentPath: string },
  ): string {
    if (element) throw invalidFilter('A value path cannot nest inside another value path');
    const path = normaliseAttributePath(node.attrPath);
    const parent = this.lookup(path);
    if (parent?.subAttributes) {
      const alias = this.alias();
      return this.exists(
        parent,
        alias,
        this.compile(node.valFilter, depth + 1, { alias, parent, parentPath: path }),
      );
    }
    // Without a jsonb form, `emails[value eq "x"]` is `emails.value eq "x"`; sound only if one sub-attribute is
    // named (several would have to hold for one element, which separate columns cannot say).
    const named = new Set<string>();
    const collect = (f: ScimFilter): void => {
      if ('filters' in f) f.filters.forEach(collect);
      else if ('filter' in f) collect(f.filter);
      else if ('valFilter' in f) throw invalidFilter('A value path cannot nest inside another value path');
      else named.add(normaliseAttributePath(f.attrPath));
    };
    collect(node.valFilter);
    if (named.size !== 1)
      throw invalidFilter(`Filtering on several sub-attributes of ${node.attrPath} at once is not supported`);
    const prefix = (f: ScimFilter): ScimFilter => {
      if ('filters' in f) return { ...f, filters: f.filters.map(prefix) } as ScimFilter;
      if ('filter' in f) return { ...f, filter: prefix(f.filter) } as ScimFilter;
      return { ...f, attrPath: `${path}.${normaliseAttributePath((f as Compare).attrPath)}` } as ScimFilter;
    };
    const target = this.resolve(`${path}.${[...named][0]}`);
    if (target.multi) {
      // All conditions of the value path hold for one element of the text[]: compile them over unnest().
      const alias = this.alias();
      const scalar: FilterAttribute = {
        ...(target.attribute as FilterAttribute),
        sql: `${alias}.v`,
        multi: false,
      };
      const inner = new Compiler(
        { [`${path}.${[...named][0]}`]: scalar },
        this.paramOffset + this.params.length,
      );
      inner.aliases = this.aliases;
      const condition = inner.compile(prefix(node.valFilter), depth + 1);
      this.params.push(...inner.params);
      this.aliases = inner.aliases;
      return `EXISTS (SELECT 1 FROM unnest(${target.sql}) AS ${alias}(v) WHERE ${condition})`;
    }
    return this.compile(prefix(node.valFilter), depth + 1);
  }

  private present(
    attrPath: string,
    element?: { alias: string; parent: FilterAttribute; parentPath: string },
  ): string {
    const path = normaliseAttributePath(attrPath);
    if (!element) {
      const direct = this.lookup(path);
      if (direct?.subAttributes) {
        return `(jsonb_typeof(${direct.sql}) = 'array' AND jsonb_array_length(${direct.sql}) > 0)`;
      }
    }
    const target = this.resolve(attrPath, element);
    let condition: string;
    if (target.multi) condition = `COALESCE(cardinality(${target.sql}), 0) > 0`;
    else if (target.attribute.type === 'string')
      condition = `(${target.sql} IS NOT NULL AND ${target.sql} <> '')`;
    else condition = `${target.sql} IS NOT NULL`;
    return target.wrap ? target.wrap(condition) : condition;
  }

  private compare(
    node: Compare,
    element?: { alias: string; parent: FilterAttribute; parentPath: string },
  ): string {
    const target = this.resolve(node.attrPath, element);
    const condition = this.comparison(node, target);
    return target.wrap ? target.wrap(condition) : condition;
  }

  private comparison(node: Compare, target: Resolved): string {
    const { op, attrPath } = node;
    const { attribute } = target;
    const value = node.compValue;
    if (value === null) {
      if (op === 'eq')
        return target.multi ? `COALESCE(cardinality(${target.sql}), 0) = 0` : `${target.sql} IS NULL`;
      if (op === 'ne')
        return target.multi ? `COALESCE(cardinality(${target.sql}), 0) > 0` : `${target.sql} IS NOT NULL`;
      throw invalidFilter(`${attrPath} ${op} null is not a comparison`);
    }
    let param: unknown;
    let cast = '';
    switch (attribute.type) {
      case 'boolean': {
        if (op !== 'eq' && op !== 'ne')
          throw invalidFilter(`${attrPath} is a boolean: only eq, ne and pr apply`);
        param = coerceBoolean(value);
        if (param === undefined) throw invalidFilter(`${attrPath} compares with true or false`);
        cast = '::boolean';
        break;
      }
      case 'datetime': {
        if (['co', 'sw', 'ew'].includes(op))
          throw invalidFilter(`${attrPath} is a date-time: co, sw and ew do not apply`);
        param = datetimeValue(value, attrPath);
        cast = '::timestamptz';
        break;
      }
      case 'integer': {
        if (['co', 'sw', 'ew'].includes(op))
          throw invalidFilter(`${attrPath} is an integer: co, sw and ew do not apply`);
        const number =
          typeof value === 'number'
            ? value
            : typeof value === 'string' && /^-?\d{1,15}$/.test(value)
              ? Number(value)
              : NaN;
        if (!Number.isSafeInteger(number)) throw invalidFilter(`${attrPath} compares with an integer`);
        param = number;
        cast = '::bigint';
        break;
      }
      default: {
        if (typeof value === 'object') throw invalidFilter(`${attrPath} compares with a string`);
        const text = String(value);
        param = attribute.caseExact ? text : text.toLowerCase();
      }
    }
    if (op === 'co' || op === 'sw' || op === 'ew') {
      const escaped = escapeLike(param as string);
      const pattern = op === 'co' ? `%${escaped}%` : op === 'sw' ? `${escaped}%` : `%${escaped}`;
      const placeholder = this.param(pattern);
      if (target.multi)
        return `EXISTS (SELECT 1 FROM unnest(${target.sql}) AS scim_u(v) WHERE scim_u.v LIKE ${placeholder} ESCAPE '\\')`;
      return `${target.sql} LIKE ${placeholder} ESCAPE '\\'`;
    }
    const placeholder = `${this.param(param)}${cast}`;
    const sqlOp = { eq: '=', ne: '<>', gt: '>', lt: '<', ge: '>=', le: '<=' }[op as 'eq'];
    if (target.multi) {
      if (op === 'eq') return `${target.sql} @> ARRAY[${placeholder}]::text[]`;
      if (op === 'ne') return `NOT (COALESCE(${target.sql}, '{}'::text[]) @> ARRAY[${placeholder}]::text[])`;
      return `EXISTS (SELECT 1 FROM unnest(${target.sql}) AS scim_u(v) WHERE scim_u.v ${sqlOp} ${placeholder})`;
    }
    if (op === 'ne') return `${target.sql} IS DISTINCT FROM ${placeholder}`;
    return `${target.sql} ${sqlOp} ${placeholder}`;
  }
}

/**
 * Translates a SCIM filter into a parameterised SQL condition over the attribute map. Values only ever travel
 * as $n parameters (numbered after `paramOffset`). Throws ScimError(400, …, 'invalidFilter') for bad syntax or
 * an attribute not in the map, so a filter never silently widens into a full scan.
 */
export function compileFilter(
  filter: string,
  attributes: FilterAttributeMap,
  paramOffset = 0,
): { sql: string; params: unknown[] } {
  const tree = parseFilter(filter);
  const compiler = new Compiler(attributes, paramOffset);
  const sql = compiler.compile(tree, 0);
  return { sql, params: compiler.params };
}
