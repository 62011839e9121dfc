import { applyDecorators } from '@nestjs/common';
import { ApiQuery } from '@nestjs/swagger';
import type { CallbackParams } from './auth-flows.service.js';

/** The query Microsoft sends back to every redirect URI, documented once for the three callbacks. */
export function ApiAuthorizationCallbackQuery(): MethodDecorator {
  return applyDecorators(
    ApiQuery({
      name: 'code',
      required: false,
      description: 'The authorization code Microsoft issued (set by Microsoft).',
    }),
    ApiQuery({ name: 'state', required: false, description: 'The flow’s `state`, echoed by Microsoft.' }),
    ApiQuery({
      name: 'error',
      required: false,
      description: 'Microsoft’s error code when it did not issue a code.',
    }),
    ApiQuery({
      name: 'error_description',
      required: false,
      description: 'Microsoft’s error text (logged, never shown).',
    }),
  );
}

/** The callback's parameters from its raw query: only string values count (a repeated one is ignored). */
export function callbackParamsOf(query: Record<string, unknown>): CallbackParams {
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return {
    code: text(query.code),
    state: text(query.state),
    error: text(query.error),
    errorDescription: text(query.error_description),
  };
}
