import type { ArgumentMetadata } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { IsBoolean } from 'class-validator';
import { ValidationFailedError } from './domain-error.js';
import { createValidationPipe, findUnsafeInput, IsOptionalNotNull, MAX_INPUT_DEPTH } from './validation.js';

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

class Toggle {
  @IsOptionalNotNull()
  @IsBoolean()
  enabled?: boolean;
}

const body: ArgumentMetadata = { type: 'body', metatype: Toggle };

describe('findUnsafeInput', () => {
  it('accepts ordinary input, including astral characters (well-formed surrogate pairs)', () => {
    expect(findUnsafeInput({ name: 'Zoë 😀', tags: ['a', 'b'], n: 1, x: null }, '')).toEqual([]);
    expect(findUnsafeInput(nested(MAX_INPUT_DEPTH), '')).toEqual([]);
  });

  it('names NUL characters and lone surrogates in values and keys', () => {
    expect(
      findUnsafeInput({ email: '\uD800@x.io', list: ['ok', 'a\u0000b'], 'k\u0000': 1, low: '\uDC00x' }, ''),
    ).toEqual(
      expect.arrayContaining([
        { field: 'email', message: expect.any(String) },
        { field: 'list[1]', message: expect.any(String) },
        { field: 'k\u0000', message: expect.any(String) },
        { field: 'low', message: expect.any(String) },
      ]),
    );
  });

  it('refuses nesting deeper than the cap without overflowing the stack itself', () => {
    expect(findUnsafeInput(nested(MAX_INPUT_DEPTH + 1), '')).toHaveLength(1);
    expect(findUnsafeInput(nested(200_000), '')).toEqual([
      { field: expect.stringMatching(/^a(\.a)+$/), message: expect.stringContaining('nested deeper') },
    ]);
  });
});

describe('the global validation pipe', () => {
  const pipe = createValidationPipe();

  it('answers VALIDATION_FAILED for hostile nesting before class-transformer sees it', async () => {
    const error = await Promise.resolve()
      .then(() => pipe.transform({ enabled: true, x: nested(100_000) }, body))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationFailedError);
  });

  it('refuses null for a property that may only be left out', async () => {
    await expect(Promise.resolve().then(() => pipe.transform({ enabled: null }, body))).rejects.toMatchObject(
      {
        code: 'VALIDATION_FAILED',
        errors: [{ field: 'enabled', message: expect.any(String) }],
      },
    );
    await expect(pipe.transform({}, body)).resolves.toBeInstanceOf(Toggle);
  });

  it('names a bad path parameter by its name', () => {
    expect(() => pipe.transform('a\u0000', { type: 'param', data: 'id', metatype: String })).toThrow(
      expect.objectContaining({ errors: [{ field: 'id', message: expect.any(String) }] }),
    );
  });
});
