import { Injectable } from '@nestjs/common';
import { DataSource, IsNull, LessThan } from 'typeorm';
import { AuthFlowEntity } from './entities/auth-flow.entity.js';
import { SessionEntity } from './entities/session.entity.js';

/** Sessions and pending redirect flows: the auth module's own tables. */
@Injectable()
export class AuthRepository {
  constructor(private readonly dataSource: DataSource) {}

  private get sessions() {
    return this.dataSource.getRepository(SessionEntity);
  }

  private get flows() {
    return this.dataSource.getRepository(AuthFlowEntity);
  }

  createSession(values: Partial<SessionEntity>): Promise<SessionEntity> {
    return this.sessions.save(this.sessions.create(values));
  }

  findSessionByTokenHash(tokenHash: string): Promise<SessionEntity | null> {
    return this.sessions.findOneBy({ tokenHash });
  }

  async revokeSession(id: string, reason: string): Promise<void> {
    await this.sessions.update({ id, revokedAt: IsNull() }, { revokedAt: new Date(), revokedReason: reason });
  }

  async revokeSessionsOfUser(userId: string, reason: string): Promise<number> {
    const result = await this.sessions.update(
      { userId, revokedAt: IsNull() },
      { revokedAt: new Date(), revokedReason: reason },
    );
    return result.affected ?? 0;
  }

  createFlow(values: Partial<AuthFlowEntity>): Promise<AuthFlowEntity> {
    return this.flows.save(this.flows.create(values));
  }

  /** Deletes and returns the flow in one statement, so a state can be consumed once even under races. */
  async consumeFlow(stateHash: string): Promise<AuthFlowEntity | null> {
    const rows: Record<string, unknown>[] = await this.flows
      .createQueryBuilder()
      .delete()
      .where('state_hash = :stateHash', { stateHash })
      .returning('*')
      .execute()
      .then((result) => result.raw as Record<string, unknown>[]);
    if (rows.length === 0) return null;
    const row = rows[0];
    return this.flows.create({
      id: row.id as string,
      stateHash: row.state_hash as string,
      browserBindingHash: row.browser_binding_hash as string,
      purpose: row.purpose as AuthFlowEntity['purpose'],
      nonce: row.nonce as string,
      codeVerifier: row.code_verifier as string,
      returnTo: row.return_to as string,
      userId: (row.user_id as string | null) ?? null,
      organizationId: (row.organization_id as string | null) ?? null,
      expiresAt: new Date(row.expires_at as string),
      createdAt: new Date(row.created_at as string),
    });
  }

  async deleteExpiredFlows(): Promise<void> {
    await this.flows.delete({ expiresAt: LessThan(new Date()) });
  }
}
