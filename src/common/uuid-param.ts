import { Param, type PipeTransform } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import type { DomainError } from './domain-error.js';
import { isUuid } from './uuid.js';

/** Answers the module's own "not found" for a path id that cannot name any row. */
export class UuidPipe implements PipeTransform<unknown, string> {
  constructor(private readonly notFound: new () => DomainError) {}

  transform(value: unknown): string {
    if (!isUuid(value)) throw new this.notFound();
    return value;
  }
}

/**
 * A path id validated at the edge: a malformed one answers exactly what an unknown one does (the module's
 * 404, e.g. `USER_NOT_FOUND`) without a database round-trip, and the OpenAPI document says `format: uuid`.
 */
export function UuidParam(name: string, notFound: new () => DomainError): ParameterDecorator {
  return (target, propertyKey, index) => {
    Param(name, new UuidPipe(notFound))(target, propertyKey, index);
    if (propertyKey === undefined) return;
    const descriptor = Object.getOwnPropertyDescriptor(target, propertyKey);
    const code = (notFound as unknown as { definition?: { code: string } }).definition?.code;
    const description = `The id (uuid)${code ? `; an unknown or malformed one answers 404 \`${code}\`` : ''}.`;
    if (descriptor)
      ApiParam({ name, type: String, format: 'uuid', description })(target, propertyKey, descriptor);
  };
}
