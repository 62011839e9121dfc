import { Injectable } from '@nestjs/common';
import { DataSource, LessThan } from 'typeorm';
import { AuthFlowEntity } from './entities/auth-flow.entity.js';

@Injectable()
export class AuthFlowsRepository {
  constructor(private readonly dataSource: DataSource) {}

  private get flows() {
    return this.dataSource.getRepository(AuthFlowEntity);
  }

  create(values: Partial<AuthFlowEntity>): Promise<AuthFlowEntity> {
    return this.flows.save(this.flows.create(values));
  }

  /** Deletes and returns the flow in one statement, so a state is consumed once even under races. */
  async consume(stateHash: string): Promise<AuthFlowEntity | null> {
    const result = await this.flows
      .createQueryBuilder()
      .delete()
      .where('state_hash = :stateHash', { stateHash })
      .returning('*')
      .execute();
    const row = (result.raw as Record<string, unknown>[])[0];
    if (!row) return null;
    return this.flows.create({
      id: row.id as string,
      stateHash: row.state_hash as string,
      browserBindingHash: (row.browser_binding_hash as string | null) ?? null,
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

  async deleteExpired(): Promise<void> {
    await this.flows.delete({ expiresAt: LessThan(new Date()) });
  }
}
