import { Injectable } from '@nestjs/common';
import { DataSource, In, IsNull } from 'typeorm';
import { SessionEntity } from './entities/session.entity.js';

@Injectable()
export class SessionsRepository {
  constructor(private readonly dataSource: DataSource) {}

  private get sessions() {
    return this.dataSource.getRepository(SessionEntity);
  }

  create(values: Partial<SessionEntity>): Promise<SessionEntity> {
    return this.sessions.save(this.sessions.create(values));
  }

  findByTokenHash(tokenHash: string): Promise<SessionEntity | null> {
    return this.sessions.findOneBy({ tokenHash });
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

  async revokeAllOfUser(userId: string, reason: string): Promise<number> {
    const result = await this.sessions.update(
      { userId, revokedAt: IsNull() },
      { revokedAt: new Date(), revokedReason: reason },
    );
    return result.affected ?? 0;
  }
}
