import { SCHEMAS } from './constants.js';
import { ScimError } from './errors.js';
import { normaliseAttributePath, parseFilter, type ScimFilter } from './filter.js';
import {
  CORE_SCHEMAS_LOWER,
  READ_ONLY_ATTRIBUTES,
  canonicalName,
  isMultiValued,
  knownSchemaPrefix,
} from './schemas.js';
import { coerceBoolean } from './values.js';

export interface PatchPath {
  /** lower-cased attribute name, e.g. 'emails', 'name', 'manager' */
  attribute: string;
  /** lower-cased sub-attribute, e.g. 'givenname', 'value' */
  subAttribute?: string;
  /** raw filter text inside [] (already checked to parse) */
  valueFilter?: string;
  /** lower-cased extension schema URN when the path names one (core schema prefixes are dropped) */
  schema?: string;
}

export interface PatchOperation {
  op: 'add' | 'replace' | 'remove';
  /** lower-cased attribute path split; null = path-less (value is an object of attributes; normalisePatch expands it into one op per key) */
  path: PatchPath | null;
  /** "True"/"False" strings → booleans (for `active` and `primary`); JSON null kept as null */
  value: unknown;
}

function invalidSyntax(detail: string): ScimError {
  return new ScimError(400, detail, 'invalidSyntax');
}

function invalidPath(detail: string): ScimError {
  return new ScimError(400, detail, 'invalidPath');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A key of `object` matched case-insensitively (SCIM attribute names are case-insensitive). */
function keyOf(object: Record<string, unknown>, lower: string): string | undefined {
  return Object.keys(object).find((key) => key.toLowerCase() === lower);
}

function field(object: Record<string, unknown>, name: string): unknown {
  const key = keyOf(object, name.toLowerCase());
  return key === undefined ? undefined : object[key];
}

const BOOLEAN_NAMES = new Set(['active', 'primary']);

/** "True"/"False" → booleans where the attribute is a boolean (`active`, any `primary`), one level deep. */
function coerceBooleans(path: PatchPath, value: unknown): unknown {
  const leaf = path.subAttribute ?? path.attribute;
  if (BOOLEAN_NAMES.has(leaf) && typeof value === 'string') return coerceBoolean(value) ?? value;
  const fix = (element: unknown): unknown => {
    if (!isObject(element)) return element;
    const copy: Record<string, unknown> = { ...element };
    for (const key of Object.keys(copy)) {
      if (BOOLEAN_NAMES.has(key.toLowerCase()) && typeof copy[key] === 'string')
        copy[key] = coerceBoolean(copy[key]) ?? copy[key];
    }
    return copy;
  };
  return Array.isArray(value) ? value.map(fix) : fix(value);
}

/**
 * Parses a PATCH path: `attr`, `attr.sub`, `attr[filter]`, `attr[filter].sub`, each optionally prefixed by a
 * schema URN (`urn:…:enterprise:2.0:User:manager.value`).
 */
export function parsePatchPath(raw: string): PatchPath {
  if (typeof raw !== 'string' || raw.trim() === '') throw invalidPath('The path is empty');
  let rest = raw.trim();
  let schema: string | undefined;
  const urn = knownSchemaPrefix(rest);
  if (urn) {
    if (rest.length === urn.length) throw invalidPath(`The path ${raw} names a schema, not an attribute`);
    rest = rest.slice(urn.length + 1);
    if (!CORE_SCHEMAS_LOWER.includes(urn.toLowerCase())) schema = urn.toLowerCase();
  } else if (/^urn:/i.test(rest)) {
    // Another extension (a custom one an admin mapped in Entra): the attribute follows the last colon.
    const bracket = rest.indexOf('[');
    const colon = rest.lastIndexOf(':', bracket < 0 ? rest.length : bracket);
    schema = rest.slice(0, colon).toLowerCase();
    rest = rest.slice(colon + 1);
  }
  const match = /^([A-Za-z$][\w$-]*)(?:\[(.*)\])?(?:\.([A-Za-z$][\w$-]*))?$/s.exec(rest);
  if (!match) throw invalidPath(`The path ${raw} is not a valid attribute path`);
  const [, attribute, valueFilter, subAttribute] = match;
  if (valueFilter !== undefined) {
    try {
      parseFilter(valueFilter);
    } catch {
      throw invalidPath(`The filter in the path ${raw} is not valid`);
    }
  }
  return {
    attribute: attribute.toLowerCase(),
    ...(subAttribute ? { subAttribute: subAttribute.toLowerCase() } : {}),
    ...(valueFilter !== undefined ? { valueFilter } : {}),
    ...(schema ? { schema } : {}),
  };
}

/** One op per attribute of a path-less add/replace value: dotted keys and URN-prefixed keys become paths. */
function expandPathless(op: 'add' | 'replace', value: unknown): PatchOperation[] {
  if (!isObject(value))
    throw invalidSyntax(`A ${op} without a path needs an object of attributes as its value`);
  const operations: PatchOperation[] = [];
  for (const [key, item] of Object.entries(value)) {
    const lower = key.toLowerCase();
    if (lower === 'schemas') continue;
    const urn = knownSchemaPrefix(key);
    if (urn && lower === urn.toLowerCase()) {
      // The whole extension object: each of its attributes under that schema.
      if (!isObject(item)) throw invalidSyntax(`The value of ${key} must be an object of attributes`);
      const schema = CORE_SCHEMAS_LOWER.includes(lower) ? undefined : lower;
      for (const [subKey, subValue] of Object.entries(item)) {
        const path = parsePatchPath(subKey);
        if (path.schema) throw invalidPath(`${subKey} cannot name a schema inside ${key}`);
        const full = { ...path, ...(schema ? { schema } : {}) };
        operations.push({ op, path: full, value: coerceBooleans(full, subValue) });
      }
      continue;
    }
    const path = parsePatchPath(key);
    if (path.valueFilter !== undefined) throw invalidPath(`The attribute name ${key} cannot carry a filter`);
    operations.push({ op, path, value: coerceBooleans(path, item) });
  }
  return operations;
}

/**
 * Validates the PatchOp body (schemas, Operations array, op in any case) → operations in order; path-less
 * replace/add with dotted or URN-prefixed keys expands to one op per attribute. Throws ScimError 400
 * invalidSyntax/invalidPath (noTarget for a remove without a path).
 */
export function normalisePatch(body: unknown): PatchOperation[] {
  if (!isObject(body)) throw invalidSyntax('The PATCH body must be a PatchOp object');
  const schemas = field(body, 'schemas');
  if (
    !Array.isArray(schemas) ||
    !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === SCHEMAS.PATCH_OP.toLowerCase())
  ) {
    throw invalidSyntax(`The PATCH body must list the schema ${SCHEMAS.PATCH_OP}`);
  }
  const raw = field(body, 'Operations');
  if (!Array.isArray(raw) || raw.length === 0)
    throw invalidSyntax('The PATCH body needs a non-empty Operations array');
  const operations: PatchOperation[] = [];
  raw.forEach((entry, index) => {
    if (!isObject(entry)) throw invalidSyntax(`Operation ${index + 1} is not an object`);
    const opName = field(entry, 'op');
    const op = typeof opName === 'string' ? opName.trim().toLowerCase() : undefined;
    if (op !== 'add' && op !== 'replace' && op !== 'remove') {
      throw invalidSyntax(
        `Operation ${index + 1} has op ${JSON.stringify(opName)}; expected add, replace or remove`,
      );
    }
    const rawPath = field(entry, 'path');
    const value = field(entry, 'value');
    if (rawPath !== undefined && rawPath !== null && typeof rawPath !== 'string')
      throw invalidPath(`Operation ${index + 1} has a path that is not a string`);
    if (rawPath === undefined || rawPath === null || rawPath.trim() === '') {
      if (op === 'remove')
        throw new ScimError(400, `Operation ${index + 1} removes without a path`, 'noTarget');
      operations.push(...expandPathless(op, value));
      return;
    }
    const path = parsePatchPath(rawPath);
    if (op !== 'remove' && value === undefined)
      throw invalidSyntax(`Operation ${index + 1} (${op} ${rawPath}) has no value`);
    operations.push({ op, path, value: coerceBooleans(path, value) });
  });
  return operations;
}

// ---------------------------------------------------------------------------------------------------------
// Applying operations to a resource.

function elementField(element: unknown, lower: string): unknown {
  return isObject(element) ? field(element, lower) : lower === 'value' ? element : undefined;
}

function compareValues(left: unknown, right: unknown): number | undefined {
  if (typeof left === 'string' && typeof right === 'string') {
    const a = left.toLowerCase();
    const b = right.toLowerCase();
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (typeof left === 'number' && typeof right === 'number') return left - right;
  if (typeof left === 'boolean' && (typeof right === 'boolean' || typeof right === 'string')) {
    const r = coerceBoolean(right);
    return r === undefined ? undefined : Number(left) - Number(r);
  }
  return undefined;
}

/** Evaluates a value filter on one element of a multi-valued attribute (strings compare case-insensitively). */
function matches(filter: ScimFilter, element: unknown, attribute: string): boolean {
  switch (filter.op) {
    case 'and':
      return filter.filters.every((f) => matches(f, element, attribute));
    case 'or':
      return filter.filters.some((f) => matches(f, element, attribute));
    case 'not':
      return !matches(filter.filter, element, attribute);
    case '[]':
      throw invalidPath('A filter in a path cannot nest another value path');
    default:
      break;
  }
  let name = normaliseAttributePath(filter.attrPath);
  if (name.startsWith(`${attribute}.`)) name = name.slice(attribute.length + 1);
  const actual = elementField(element, name);
  if (filter.op === 'pr') return actual !== undefined && actual !== null && actual !== '';
  const expected = filter.compValue;
  if (expected === null)
    return filter.op === 'eq'
      ? actual === undefined || actual === null
      : filter.op === 'ne' && actual !== undefined && actual !== null;
  if (actual === undefined || actual === null) return filter.op === 'ne';
  if (filter.op === 'co' || filter.op === 'sw' || filter.op === 'ew') {
    if (typeof actual !== 'string') return false;
    const a = actual.toLowerCase();
    const e = String(expected).toLowerCase();
    return filter.op === 'co' ? a.includes(e) : filter.op === 'sw' ? a.startsWith(e) : a.endsWith(e);
  }
  const order = compareValues(actual, typeof actual === 'string' ? String(expected) : expected);
  if (order === undefined) return filter.op === 'ne';
  return { eq: order === 0, ne: order !== 0, gt: order > 0, lt: order < 0, ge: order >= 0, le: order <= 0 }[
    filter.op
  ];
}

/** The element a filter of only `eq` terms joined by `and` describes, to create when nothing matches. */
function elementFromFilter(filter: ScimFilter, attribute: string): Record<string, unknown> | undefined {
  if (filter.op === 'and') {
    const parts = filter.filters.map((f) => elementFromFilter(f, attribute));
    return parts.every(Boolean) ? Object.assign({}, ...parts) : undefined;
  }
  if (filter.op !== 'eq') return undefined;
  let name = normaliseAttributePath(filter.attrPath);
  if (name.startsWith(`${attribute}.`)) name = name.slice(attribute.length + 1);
  if (name.includes('.')) return undefined;
  return { [canonicalName(name)]: filter.compValue };
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function sameElement(a: unknown, b: unknown): boolean {
  const av = elementField(a, 'value');
  const bv = elementField(b, 'value');
  if (av !== undefined && bv !== undefined) {
    const at = elementField(a, 'type');
    const bt = elementField(b, 'type');
    return (
      String(av).toLowerCase() === String(bv).toLowerCase() &&
      (at === undefined || bt === undefined || String(at).toLowerCase() === String(bt).toLowerCase())
    );
  }
  return deepEqual(a, b);
}

/** Merges `patch` into `target` (sub-attributes not named stay; JSON null removes one). */
function mergeObject(
  target: Record<string, unknown>,
  patch: Record<string, unknown>,
): Record<string, unknown> {
  const result = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    const existing = keyOf(result, key.toLowerCase());
    if (existing !== undefined) delete result[existing];
    if (value !== null) result[existing ?? (key === key.toLowerCase() ? canonicalName(key) : key)] = value;
  }
  return result;
}

function isEmpty(value: unknown): boolean {
  return (
    value === null ||
    value === undefined ||
    (Array.isArray(value) && value.length === 0) ||
    (isObject(value) && Object.keys(value).length === 0)
  );
}

const DEFAULT_READ_ONLY = ['id', 'meta', ...READ_ONLY_ATTRIBUTES];

/**
 * Applies operations to a plain SCIM resource JSON (User or Group core+extensions), returning the new JSON;
 * handles filtered paths (emails[type eq "work"].value), Add on single-valued as replace, null sub-attributes
 * as removal, member add/remove (value array or members[value eq "id"]). Pure; throws ScimError
 * noTarget/invalidPath/invalidValue/mutability. `readOnly`: lower-cased attribute names (optionally
 * `<schema urn>:<name>`) that may not change (id and meta always).
 */
export function applyPatch(
  resource: Record<string, unknown>,
  operations: PatchOperation[],
  options: { readOnly?: string[] } = {},
): Record<string, unknown> {
  const result = structuredClone(resource);
  const readOnly = new Set([
    ...DEFAULT_READ_ONLY,
    ...(options.readOnly ?? []).map((name) => name.toLowerCase()),
  ]);
  const expanded = operations.flatMap((operation) =>
    operation.path === null
      ? expandPathless(operation.op as 'add' | 'replace', operation.value)
      : [operation],
  );
  for (const operation of expanded)
    applyOne(result, operation as PatchOperation & { path: PatchPath }, readOnly);
  return result;
}

function containerFor(
  resource: Record<string, unknown>,
  path: PatchPath,
  create: boolean,
): Record<string, unknown> | undefined {
  if (!path.schema) return resource;
  const key = keyOf(resource, path.schema);
  if (key !== undefined) {
    const value = resource[key];
    if (!isObject(value))
      throw new ScimError(400, `${canonicalName(path.schema)} is not an extension object`, 'invalidValue');
    return value;
  }
  if (!create) return undefined;
  const canonical = canonicalName(path.schema);
  const extension: Record<string, unknown> = {};
  resource[canonical] = extension;
  const schemas = resource.schemas;
  if (
    Array.isArray(schemas) &&
    !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === path.schema)
  )
    schemas.push(canonical);
  return extension;
}

function describe(path: PatchPath): string {
  return `${path.schema ? `${canonicalName(path.schema)}:` : ''}${canonicalName(path.attribute)}${path.valueFilter !== undefined ? `[${path.valueFilter}]` : ''}${path.subAttribute ? `.${canonicalName(path.subAttribute)}` : ''}`;
}

function applyOne(
  resource: Record<string, unknown>,
  operation: PatchOperation & { path: PatchPath },
  readOnly: Set<string>,
): void {
  const { op, path } = operation;
  let value = operation.value;
  // Entra sends the enterprise manager as its bare id: `"value": "2819c223-…"`.
  if (
    path.schema === SCHEMAS.ENTERPRISE_USER.toLowerCase() &&
    path.attribute === 'manager' &&
    !path.subAttribute &&
    typeof value === 'string'
  ) {
    value = value === '' ? null : { value };
  }
  const container = containerFor(resource, path, op !== 'remove');
  if (!container) return; // removing from an extension the resource does not have: nothing to do
  const key = keyOf(container, path.attribute) ?? canonicalName(path.attribute);
  const before = structuredClone(container[key]);
  const multi = isMultiValued(path.attribute) || Array.isArray(container[key]);
  const guard = () => {
    const qualified = path.schema ? `${path.schema}:${path.attribute}` : path.attribute;
    if ((readOnly.has(path.attribute) && !path.schema) || readOnly.has(qualified)) {
      if (!deepEqual(before, container[key]))
        throw new ScimError(400, `${describe(path)} is read-only`, 'mutability');
    }
  };

  if (path.valueFilter !== undefined) {
    if (!multi) throw invalidPath(`${describe(path)}: a filter applies only to a multi-valued attribute`);
    const filter = parseFilter(path.valueFilter);
    const elements: unknown[] = Array.isArray(container[key]) ? (container[key] as unknown[]) : [];
    const hits = elements.filter((element) => matches(filter, element, path.attribute));
    if (op === 'remove') {
      if (path.subAttribute) {
        for (const hit of hits) if (isObject(hit)) delete hit[keyOf(hit, path.subAttribute) ?? ''];
        container[key] = elements;
      } else {
        container[key] = elements.filter((element) => !hits.includes(element));
      }
    } else if (hits.length === 0) {
      // Entra adds/replaces `emails[type eq "work"].value` also when there is no work email yet.
      const seed = elementFromFilter(filter, path.attribute);
      if (!seed) throw new ScimError(400, `No value of ${describe(path)} matches the filter`, 'noTarget');
      if (value === null) return;
      const element = path.subAttribute
        ? { ...seed, [canonicalName(path.subAttribute)]: value }
        : isObject(value)
          ? mergeObject(seed, value)
          : undefined;
      if (!element) throw new ScimError(400, `${describe(path)} needs an object value`, 'invalidValue');
      container[key] = [...elements, element];
    } else {
      for (const hit of hits) {
        const index = elements.indexOf(hit);
        if (path.subAttribute) {
          if (!isObject(hit)) throw invalidPath(`${describe(path)}: the values have no sub-attributes`);
          elements[index] = mergeObject(hit, {
            [keyOf(hit, path.subAttribute) ?? canonicalName(path.subAttribute)]: value,
          });
        } else if (value === null) {
          elements[index] = undefined;
        } else if (isObject(value) && isObject(hit)) {
          elements[index] = mergeObject(hit, value);
        } else {
          elements[index] = value;
        }
      }
      container[key] = elements.filter((element) => element !== undefined);
    }
    finish(container, key, before);
    guard();
    return;
  }

  if (path.subAttribute) {
    const current = container[key];
    if (multi) {
      // `emails.value` without a filter: every value of the attribute (RFC 7644 §3.5.2).
      const elements = Array.isArray(current) ? current : [];
      if (op !== 'remove' && elements.length === 0)
        throw new ScimError(
          400,
          `${describe(path)} has no values to set ${path.subAttribute} on`,
          'noTarget',
        );
      container[key] = elements.map((element) => {
        if (!isObject(element)) return element;
        return mergeObject(element, {
          [keyOf(element, path.subAttribute!) ?? canonicalName(path.subAttribute!)]:
            op === 'remove' ? null : value,
        });
      });
    } else {
      if (current !== undefined && current !== null && !isObject(current))
        throw invalidPath(`${describe(path)}: ${canonicalName(path.attribute)} has no sub-attributes`);
      const object = isObject(current) ? current : {};
      container[key] = mergeObject(object, {
        [keyOf(object, path.subAttribute) ?? canonicalName(path.subAttribute)]:
          op === 'remove' ? null : value,
      });
    }
    finish(container, key, before);
    guard();
    return;
  }

  if (op === 'remove') {
    if (multi && value !== undefined && value !== null) {
      // Entra: {"op":"Remove","path":"members","value":[{"value":"<id>"}]} removes just those values.
      const removals = Array.isArray(value) ? value : [value];
      const elements = Array.isArray(container[key]) ? (container[key] as unknown[]) : [];
      container[key] = elements.filter(
        (element) => !removals.some((removal) => sameElement(element, removal)),
      );
      finish(container, key, before);
    } else {
      delete container[key];
    }
    guard();
    return;
  }

  if (value === null) {
    delete container[key];
    guard();
    return;
  }
  if (multi) {
    const values = Array.isArray(value) ? value : [value];
    if (isMultiValued(path.attribute) && values.some((v) => !isObject(v))) {
      throw new ScimError(
        400,
        `${describe(path)} takes a list of objects such as [{"value": "…"}]`,
        'invalidValue',
      );
    }
    if (op === 'replace') {
      container[key] = values;
    } else {
      const elements = Array.isArray(container[key]) ? [...(container[key] as unknown[])] : [];
      for (const item of values) {
        const index = elements.findIndex((element) => sameElement(element, item));
        if (index >= 0)
          elements[index] =
            isObject(elements[index]) && isObject(item)
              ? mergeObject(elements[index] as Record<string, unknown>, item)
              : item;
        else elements.push(item);
      }
      container[key] = elements;
    }
    finish(container, key, before);
  } else if (isObject(value) && isObject(container[key])) {
    // Complex single-valued: named sub-attributes replace, the others stay (RFC 7644 §3.5.2.1, §3.5.2.3).
    container[key] = mergeObject(container[key] as Record<string, unknown>, value);
    finish(container, key, before);
  } else {
    // Add on a single-valued attribute is a replace.
    container[key] = isObject(value) ? mergeObject({}, value) : value;
    finish(container, key, before);
  }
  guard();
}

/** Drops an attribute left empty, as SCIM treats an empty value as unassigned (RFC 7643 §2.5). */
function finish(container: Record<string, unknown>, key: string, before: unknown): void {
  const value = container[key];
  if (isEmpty(value)) {
    delete container[key];
    return;
  }
  if (!Array.isArray(value)) return;
  // At most one value is primary (RFC 7643 §2.4): one that became primary now wins over the earlier one.
  const primaries = value.filter((element) => isObject(element) && field(element, 'primary') === true);
  if (primaries.length < 2) return;
  const earlier = new Set((Array.isArray(before) ? before : []).map((element) => JSON.stringify(element)));
  const fresh = primaries.filter((element) => !earlier.has(JSON.stringify(element)));
  const winner = fresh.length > 0 ? fresh[fresh.length - 1] : primaries[primaries.length - 1];
  container[key] = value.map((element) =>
    element !== winner && primaries.includes(element)
      ? {
          ...(element as Record<string, unknown>),
          [keyOf(element as Record<string, unknown>, 'primary')!]: false,
        }
      : element,
  );
}
