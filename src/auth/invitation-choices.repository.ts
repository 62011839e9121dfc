import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { LessThan } from 'typeorm';
import { InvitationChoiceEntity } from './entities/invitation-choice.entity.js';

@Injectable()
export class InvitationChoicesRepository {
  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {}

  /** In the current transaction, if any (a choice is consumed in the transaction that accepts it). */
  private get choices() {
    return this.txHost.tx.getRepository(InvitationChoiceEntity);
  }

  create(values: Partial<InvitationChoiceEntity>): Promise<InvitationChoiceEntity> {
    return this.choices.save(this.choices.create(values));
  }

  /** Reads a choice without consuming it, so a request can be checked before the choice is spent. */
  findByBindingHash(bindingHash: string): Promise<InvitationChoiceEntity | null> {
    return this.choices.findOneBy({ bindingHash });
  }

  /** Deletes the choice in one statement: true for the one caller that consumed it, even under races. */
  async consume(id: string): Promise<boolean> {
    const result = await this.choices.delete({ id });
    return (result.affected ?? 0) > 0;
  }

  async deleteExpired(): Promise<void> {
    await this.choices.delete({ expiresAt: LessThan(new Date()) });
  }
}
