import { Global, Injectable, Module } from '@nestjs/common';
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

/**
 * The application's authenticators by kind, one registry per application (two apps in one process never
 * authenticate through each other's). The module that owns a credential registers its authenticator when it is
 * constructed (`common/` imports no feature module); the global guard asks it per request.
 */
@Injectable()
export class Authenticators {
  private readonly registered = new Map<CredentialKind, RequestAuthenticator>();

  register(kind: CredentialKind, authenticator: RequestAuthenticator): void {
    this.registered.set(kind, authenticator);
  }

  /** The authenticator registered for `kind`, if any: a kind nobody registered authenticates nobody. */
  of(kind: CredentialKind): RequestAuthenticator | undefined {
    return this.registered.get(kind);
  }
}

@Global()
@Module({ providers: [Authenticators], exports: [Authenticators] })
export class AuthenticatorsModule {}
