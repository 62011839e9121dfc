import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { LessThan, MoreThan } from 'typeorm';
import { AuthFlowEntity } from './entities/auth-flow.entity.js';

@Injectable()
export class AuthFlowsRepository {
  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {}

  // A redirect flow starts before anyone is signed in, so it belongs to no organization yet.
  private get flows() {
    return this.txHost.tx.getRepository(AuthFlowEntity);
  }

  create(values: Partial<AuthFlowEntity>): Promise<AuthFlowEntity> {
    return this.flows.save(this.flows.create(values));
  }

  /** Reads a flow without consuming it, so a callback can be checked before the state is spent. */
  findByStateHash(stateHash: string): Promise<AuthFlowEntity | null> {
    return this.flows.findOneBy({ stateHash });
  }

  /** Deletes the flow in one statement: true for the one caller that consumed it, even under races. */
  async consume(id: string): Promise<boolean> {
    const result = await this.flows.delete({ id });
    return (result.affected ?? 0) > 0;
  }

  /** Whether a browser binding belongs to a flow we issued that is still pending. */
  hasPendingBinding(browserBindingHash: string): Promise<boolean> {
    return this.flows.existsBy({ browserBindingHash, expiresAt: MoreThan(new Date()) });
  }

  async deleteExpired(): Promise<void> {
    await this.flows.delete({ expiresAt: LessThan(new Date()) });
  }
}
