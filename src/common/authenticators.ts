import type { Request } from 'express';
import type { AuthKind } from './auth.decorators.js';

/** The kinds that carry a credential, each checked by the authenticator registered for it. */
export type CredentialKind = Exclude<AuthKind, 'public'>;

/**
 * Checks one kind of credential: the caller it stands for (put on `request.user`), `false` when the request does
 * not carry a valid one (the next kind of the route is tried, then 401), or a thrown domain error that ends the
 * request (a spent rate limit, SCIM switched off).
 */
export interface RequestAuthenticator {
  validate(request: Request): Promise<object | false>;
}

const registered = new Map<CredentialKind, RequestAuthenticator>();

/**
 * Makes `authenticator` the one the global guard asks for `kind`. The module that owns the credential does it
 * when its authenticator is constructed (`common/` imports no feature module); the latest registration wins.
 */
export function registerAuthenticator(kind: CredentialKind, authenticator: RequestAuthenticator): void {
  registered.set(kind, authenticator);
}

/** The authenticator registered for `kind`, if any: a kind nobody registered authenticates nobody. */
export function authenticatorOf(kind: CredentialKind): RequestAuthenticator | undefined {
  return registered.get(kind);
}
