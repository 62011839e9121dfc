import { SCHEMAS } from './constants.js';

/** The `scimType` values RFC 7644 §3.12 defines. */
export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive';

/** Thrown by SCIM services; the scim-access filter renders it as the SCIM error schema. */
export class ScimError extends Error {
  constructor(
    readonly status: number,
    detail: string,
    readonly scimType?: ScimType,
  ) {
    super(detail);
    this.name = 'ScimError';
  }

  /** The human-readable text, as the error body's `detail`. */
  get detail(): string {
    return this.message;
  }
}

/** The SCIM error body (RFC 7644 §3.12): `status` is a string, `scimType` only where one applies. */
export function scimErrorBody(status: number, detail: string, scimType?: ScimType): object {
  return {
    schemas: [SCHEMAS.ERROR],
    status: String(status),
    ...(scimType ? { scimType } : {}),
    detail,
  };
}
