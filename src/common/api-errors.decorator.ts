import { PATH_METADATA } from '@nestjs/common/constants.js';
import { getSchemaPath } from '@nestjs/swagger';
import { type DocumentedError, type ErrorDefinition, STATUS_BY_KIND } from './domain-error.js';
import { ProblemDocumentDto } from './problem.dto.js';

// @nestjs/swagger's response metadata key; written directly so that entries of one status merge instead of replace.
const API_RESPONSE = 'swagger/apiResponse';
export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

type Documentable = ErrorDefinition | DocumentedError;

interface ResponseEntry {
  description: string;
  headers?: Record<string, object>;
  content: Record<string, { schema: object; examples: Record<string, { summary: string; value: object }> }>;
}

const definitionOf = (error: Documentable): ErrorDefinition =>
  'definition' in error ? error.definition : error;

/** An example problem document, as the filter renders the error. */
function exampleOf(definition: ErrorDefinition, status: number) {
  return {
    type: `urn:problem-type:${definition.code.toLowerCase().replace(/_/g, '-')}`,
    title: titleOf(status),
    status,
    detail: definition.description,
    code: definition.code,
  };
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  422: 'Unprocessable entity',
  429: 'Too many requests',
  500: 'Internal server error',
  503: 'Service unavailable',
};
export const titleOf = (status: number): string => TITLES[status] ?? 'Error';

/** What a route adds to the documented error response beyond the codes: a note on its handling, headers. */
export interface ErrorResponseExtras {
  note?: string;
  headers?: Record<string, object>;
}

/** Adds the errors to one route handler's documented responses, merged per status with what is there already. */
export function documentErrors(
  handler: object,
  errors: Documentable[],
  extras: ErrorResponseExtras = {},
): void {
  const responses = {
    ...((Reflect.getMetadata(API_RESPONSE, handler) ?? {}) as Record<string, ResponseEntry>),
  };
  for (const definition of errors.map(definitionOf)) {
    const status = STATUS_BY_KIND[definition.kind];
    const examples = { ...responses[status]?.content?.[PROBLEM_MEDIA_TYPE]?.examples };
    examples[definition.code] = { summary: definition.code, value: exampleOf(definition, status) };
    const previous = responses[status];
    const codes = Object.values(examples).map(({ value }) => {
      const { code, detail } = value as { code: string; detail: string };
      return `\`${code}\`: ${detail}`;
    });
    responses[status] = {
      description: [...codes, ...(extras.note ? [extras.note] : [])].join('\n\n'),
      ...(previous?.headers || extras.headers
        ? { headers: { ...previous?.headers, ...extras.headers } }
        : {}),
      content: { [PROBLEM_MEDIA_TYPE]: { schema: { $ref: getSchemaPath(ProblemDocumentDto) }, examples } },
    };
  }
  Reflect.defineMetadata(API_RESPONSE, responses, handler);
}

/** The route handlers of a controller class (methods carrying a route path). */
export function routeHandlers(controller: object): object[] {
  const prototype = (controller as { prototype: Record<string, unknown> }).prototype;
  return Object.getOwnPropertyNames(prototype)
    .filter((name) => name !== 'constructor')
    .map((name) => prototype[name])
    .filter(
      (handler): handler is object =>
        typeof handler === 'function' && Reflect.hasMetadata(PATH_METADATA, handler),
    );
}

/**
 * Documents the problem responses a route (or every route of a controller) can answer with, from the error classes
 * or catalog entries themselves: one response per status, `application/problem+json`, with one example per code.
 */
export function ApiErrors(...errors: Documentable[]): ClassDecorator & MethodDecorator {
  return ApiErrorsWith({}, ...errors);
}

/** `ApiErrors`, with a note on how the route handles them and the headers its error answers carry. */
export function ApiErrorsWith(
  extras: ErrorResponseExtras,
  ...errors: Documentable[]
): ClassDecorator & MethodDecorator {
  return ((target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => {
    if (descriptor) {
      documentErrors(descriptor.value as object, errors, extras);
      return descriptor;
    }
    for (const handler of routeHandlers(target)) documentErrors(handler, errors, extras);
    return undefined;
  }) as ClassDecorator & MethodDecorator;
}
