import { Inject, Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { AuditService } from '../audit/audit.service.js';
import { type CallerProfileQuery, type Principal, sessionUser } from '../common/principal.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { USERS_DEACTIVATED, type UsersDeactivatedEvent } from '../users/users.events.js';
import { UsersService } from '../users/users.service.js';
import { type SessionCaller, SessionsRepository } from './sessions.repository.js';
import { randomToken, sha256 } from '../common/tokens.js';

export interface IssuedSession {
  /** The opaque bearer token. Returned once, never stored: the database keeps its SHA-256 only. */
  token: string;
  sessionId: string;
  expiresAt: Date;
}

@Injectable()
export class SessionsService {
  constructor(
    private readonly repository: SessionsRepository,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    users: UsersService,
  ) {
    // A deactivated user's sessions end in the statement that deactivates them.
    users.onDeactivating((batch, { userId, reason }) =>
      this.repository.addRevokeAllOfUser(batch, userId, `user_deactivated:${reason}`),
    );
  }

  async issue(userId: string, userAgent: string | undefined): Promise<IssuedSession> {
    const token = randomToken();
    const expiresAt = new Date(Date.now() + this.config.session.ttlHours * 3_600_000);
    const session = await this.repository.create({
      tokenHash: sha256(token),
      userId,
      expiresAt,
      userAgent: userAgent?.slice(0, 300) ?? null,
    });
    return { token, sessionId: session.id, expiresAt };
  }

  /** The live session a token names, or null when unknown, expired, idle for too long or revoked. */
  async resolve(token: string): Promise<{ sessionId: string; userId: string } | null> {
    const caller = await this.resolveCaller(token);
    return caller ? { sessionId: caller.sessionId, userId: caller.userId } : null;
  }

  /**
   * Who a token authenticates, in one query: the live session (as `resolve`) of an active user, with the
   * user's role and organization and that organization's plan, all read fresh; null otherwise. With `profile`,
   * the same statement also reads the caller's profile (`Principal.profile`).
   */
  async authenticate(token: string, profile?: CallerProfileQuery): Promise<Principal | null> {
    const caller = await this.resolveCaller(token, profile);
    if (!caller || caller.status !== 'active') return null;
    return {
      kind: 'session',
      sessionId: caller.sessionId,
      userId: caller.userId,
      apiKeyId: null,
      scopes: null,
      organizationId: caller.organizationId,
      role: caller.role,
      plan: caller.plan,
      actor: { type: 'user', id: caller.userId },
      ...(profile ? { profile: profile.read(caller) } : {}),
    };
  }

  private async resolveCaller(
    token: string,
    profile?: CallerProfileQuery,
  ): Promise<(SessionCaller & Record<string, unknown>) | null> {
    if (!token || token.length > 200) return null;
    const session = await this.repository.findCallerByTokenHash(sha256(token), profile);
    const now = Date.now();
    if (!session || session.revokedAt || session.expiresAt.getTime() <= now) return null;
    const idleSince = session.lastSeenAt.getTime();
    if (idleSince + this.config.session.idleMinutes * 60_000 <= now) return null;
    // A write per minute at most, not per request; the repository re-checks so replicas cannot pile up.
    if (now - idleSince >= 60_000) await this.repository.touch(session.sessionId);
    return session;
  }

  /** "Sign out everywhere": ends every session of the caller, the current one included. */
  async revokeAllOf(principal: Principal): Promise<number> {
    const { userId } = sessionUser(principal);
    const revoked = await this.repository.revokeAllOfUser(userId, 'signed_out_everywhere');
    await this.audit.record({
      organizationId: principal.organizationId,
      actor: principal.actor,
      action: 'user.sessions_revoked',
      target: { type: 'user', id: userId },
      after: { revokedSessions: revoked },
    });
    return revoked;
  }

  /** The user behind a raw token, if the session is live (for flows that must be finished by their starter). */
  async userOf(token: string | undefined): Promise<string | null> {
    return token ? ((await this.resolve(token))?.userId ?? null) : null;
  }

  revoke(sessionId: string, reason: string): Promise<void> {
    return this.repository.revoke(sessionId, reason);
  }

  @OnEvent(USERS_DEACTIVATED, { promisify: true, suppressErrors: false })
  async onUsersDeactivated(event: UsersDeactivatedEvent): Promise<void> {
    await this.repository.revokeAllOfUsers(event.userIds, `user_deactivated:${event.reason}`);
  }
}
