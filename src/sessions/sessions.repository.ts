import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { In, IsNull } from 'typeorm';
import type { Plan, Role } from '../common/access.js';
import type { CallerProfileQuery } from '../common/principal.js';
import { preparedQuery } from '../database/prepared-statements.js';
import type { WriteBatch } from '../database/write-batch.js';
import type { UserStatus } from '../users/users.types.js';
import { SessionEntity } from './entities/session.entity.js';

/** A session row with what authorizing a request needs of its user and organization, read as one. */
export interface SessionCaller {
  sessionId: string;
  userId: string;
  expiresAt: Date;
  revokedAt: Date | null;
  lastSeenAt: Date;
  organizationId: string;
  role: Role;
  status: UserStatus;
  plan: Plan;
}

@Injectable()
export class SessionsRepository {
  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {}

  // Sessions belong to a user, not directly to an organization: they are found by token hash or user id.
  private get sessions() {
    return this.txHost.tx.getRepository(SessionEntity);
  }

  create(values: Partial<SessionEntity>): Promise<SessionEntity> {
    return this.sessions.save(this.sessions.create(values));
  }

  findByTokenHash(tokenHash: string): Promise<SessionEntity | null> {
    return this.sessions.findOneBy({ tokenHash });
  }

  /**
   * The session a token hash names, joined with its user's status and role and its organization's plan: the
   * one statement behind every authenticated request (instead of three), with `profile`'s columns of the user
   * when the route asked for them. Read-only on the users' and organizations' tables, and always fresh, so a
   * deactivation, a role or a plan change applies to the next request on every replica. A prepared statement:
   * PostgreSQL neither parses nor plans it per request.
   */
  async findCallerByTokenHash(
    tokenHash: string,
    profile?: CallerProfileQuery,
  ): Promise<(SessionCaller & Record<string, unknown>) | null> {
    const rows = await preparedQuery<SessionCaller & Record<string, unknown>>(
      this.txHost.tx,
      `SELECT s.id AS "sessionId", s.user_id AS "userId", s.expires_at AS "expiresAt", s.revoked_at AS "revokedAt",
              s.last_seen_at AS "lastSeenAt", u.organization_id AS "organizationId", u.role, u.status, o.plan
              ${profile ? `, ${profile.columns}` : ''}
         FROM sessions s
         JOIN users u ON u.id = s.user_id
         JOIN organizations o ON o.id = u.organization_id
        WHERE s.token_hash = $1`,
      [tokenHash],
    );
    return rows[0] ?? null;
  }

  /** Marks the session used now, unless that was already done within the last minute (one write a minute). */
  async touch(id: string): Promise<void> {
    await this.sessions
      .createQueryBuilder()
      .update()
      .set({ lastSeenAt: () => 'now()' })
      .where('id = :id', { id })
      .andWhere("last_seen_at < now() - interval '1 minute'")
      .execute();
  }

  async revoke(id: string, reason: string): Promise<void> {
    await this.sessions.update({ id, revokedAt: IsNull() }, { revokedAt: new Date(), revokedReason: reason });
  }

  async revokeAllOfUsers(userIds: string[], reason: string): Promise<void> {
    if (userIds.length === 0) return;
    await this.sessions.update(
      { userId: In(userIds), revokedAt: IsNull() },
      { revokedAt: new Date(), revokedReason: reason },
    );
  }

  /** Adds the end of every live session of the user to a batch of the transaction's writes (a deactivation). */
  addRevokeAllOfUser(batch: WriteBatch, userId: string, reason: string): void {
    batch.add(
      'sessions_revoke',
      `UPDATE sessions SET revoked_at = now(), revoked_reason = ${batch.param(reason, 'text')}
        WHERE user_id = ${batch.param(userId, 'uuid')} AND revoked_at IS NULL`,
    );
  }

  /** A prepared statement. */
  async revokeAllOfUser(userId: string, reason: string): Promise<number> {
    const rows = await preparedQuery<{ id: string }>(
      this.txHost.tx,
      `UPDATE sessions SET revoked_at = $2, revoked_reason = $3 WHERE user_id = $1 AND revoked_at IS NULL RETURNING id`,
      [userId, new Date(), reason],
    );
    return rows.length;
  }
}
