import {
  type ArgumentMetadata,
  type PipeTransform,
  ValidationPipe,
  type ValidationError,
} from '@nestjs/common';
import { ValidateIf } from 'class-validator';
import { type FieldError, ValidationFailedError } from './domain-error.js';

/** Deeper JSON than any request DTO needs; class-transformer recurses per level and overflows the stack. */
export const MAX_INPUT_DEPTH = 32;

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

// A NUL is refused by PostgreSQL in text; a lone UTF-16 surrogate has no UTF-8 form and would be stored as
// U+FFFD, i.e. not as sent. Neither belongs in any input of this API.
// eslint-disable-next-line no-control-regex
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Field errors for input no DTO rule should have to think about: nesting deeper than `MAX_INPUT_DEPTH`,
 * and strings (values or keys) PostgreSQL cannot store as sent. Iterative, so hostile depth cannot
 * overflow the stack here either. `whole` names the input itself when the problem is at its top.
 */
export function findUnsafeInput(value: unknown, root: string, whole = 'body'): FieldError[] {
  const errors: FieldError[] = [];
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: root, depth: 0 }];
  while (stack.length > 0 && errors.length < 20) {
    const item = stack.pop()!;
    const field = item.path || whole;
    if (typeof item.value === 'string') {
      if (UNSTORABLE.test(item.value)) {
        errors.push({ field, message: 'must not contain NUL characters or lone surrogates' });
      }
      continue;
    }
    if (item.value === null || typeof item.value !== 'object') continue;
    if (item.depth >= MAX_INPUT_DEPTH) {
      errors.push({ field, message: `must not be nested deeper than ${MAX_INPUT_DEPTH} levels` });
      continue;
    }
    for (const [key, child] of Object.entries(item.value)) {
      const path = Array.isArray(item.value)
        ? `${item.path}[${key}]`
        : item.path
          ? `${item.path}.${key}`
          : key;
      if (UNSTORABLE.test(key)) {
        errors.push({ field: path, message: 'must not contain NUL characters or lone surrogates' });
        continue;
      }
      stack.push({ value: child, path, depth: item.depth + 1 });
    }
  }
  return errors;
}

/** Screens every body, query and path parameter (see `findUnsafeInput`), then validates it against its DTO. */
class ScreeningValidationPipe implements PipeTransform {
  constructor(private readonly validation: ValidationPipe) {}

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type !== 'custom') {
      // Field names as the validation errors give them: the property path, or the path parameter's name.
      const root = metadata.type === 'param' ? (metadata.data ?? '') : '';
      const errors = findUnsafeInput(value, root, metadata.type);
      if (errors.length > 0) throw new ValidationFailedError(errors);
    }
    return this.validation.transform(value, metadata);
  }
}

/**
 * Rejects unknown properties, wrong types, unstorable strings and hostile nesting with a 400 listing every
 * offending field.
 */
export function createValidationPipe(): PipeTransform {
  return new ScreeningValidationPipe(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) => new ValidationFailedError(flatten(errors)),
    }),
  );
}

/**
 * Like `@IsOptional()`, but only for an absent property: `null` is validated (and refused by a type rule),
 * for settings whose columns cannot be null.
 */
export function IsOptionalNotNull(): PropertyDecorator {
  return ValidateIf((_object: object, value: unknown) => value !== undefined);
}
