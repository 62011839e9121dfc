import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { COMMON_ERRORS, DomainError } from './domain-error.js';
import { isUuid } from './uuid.js';

export class PageQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 200, default: 50, description: 'Page size.' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ description: 'Opaque cursor from a previous page’s `nextCursor`.' })
  @IsOptional()
  @IsString()
  cursor?: string;
}

export class PageInfoDto {
  @ApiProperty({
    nullable: true,
    type: String,
    example: null,
    description: 'Pass as `cursor` to get the next page; null on the last page.',
  })
  nextCursor: string | null;
}

export class InvalidCursorError extends DomainError {
  static readonly definition = COMMON_ERRORS.INVALID_CURSOR;
  constructor() {
    super(InvalidCursorError.definition);
  }
}

/** A position in a list ordered by (createdAt, id), newest or oldest first. */
export interface Cursor {
  createdAt: string;
  id: string;
}

/** `createdAt` as a Date, or as the text `Date#toISOString` would make of it (a row read with its timestamps as text). */
export function encodeCursor(row: { createdAt: Date | string; id: string }): string {
  const createdAt = typeof row.createdAt === 'string' ? row.createdAt : row.createdAt.toISOString();
  return Buffer.from(JSON.stringify({ createdAt, id: row.id })).toString('base64url');
}

// Exactly what `encodeCursor` writes (Date#toISOString within years 0000-9999): anything else could reach
// PostgreSQL as a timestamp it rejects, or one it reads differently.
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function decodeCursor(cursor: string | undefined): Cursor | null {
  if (!cursor) return null;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<Cursor>;
    const { createdAt, id } = parsed;
    if (
      typeof createdAt === 'string' &&
      ISO_INSTANT.test(createdAt) &&
      !Number.isNaN(Date.parse(createdAt)) &&
      new Date(createdAt).toISOString() === createdAt &&
      isUuid(id)
    ) {
      return { createdAt, id };
    }
  } catch {
    // fall through to the error below
  }
  throw new InvalidCursorError();
}

/** PostgreSQL's `bigint` range: a larger sequence number in a cursor is one this API never issued. */
const MAX_BIGINT = 9_223_372_036_854_775_807n;

/** A position in a list ordered by a `bigint` sequence (e.g. an identity column). */
export function encodeSequenceCursor(id: string): string {
  return Buffer.from(id).toString('base64url');
}

export function decodeSequenceCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^\d{1,19}$/.test(id) || BigInt(id) > MAX_BIGINT) throw new InvalidCursorError();
  return id;
}

/** Given `limit + 1` rows, returns the page and the cursor of the next one. */
export function toPage<T extends { createdAt: Date | string; id: string }>(
  rows: T[],
  limit: number,
): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const nextCursor = rows.length > limit ? encodeCursor(items[items.length - 1]) : null;
  return { items, nextCursor };
}
