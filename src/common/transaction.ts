import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import type { EntityManager } from 'typeorm';

/** A unit of work that several modules' repositories can join, so one business change commits or fails whole. */
export type Tx = EntityManager;

/**
 * The older way to mark a unit of work, kept while modules move to `TransactionHost`: it runs `work` in the
 * context's transaction (joining one already open), so code handed `tx` and code reading
 * `TransactionHost.tx` write through the same transaction.
 */
@Injectable()
export class TransactionRunner {
  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {}

  run<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.txHost.withTransaction(() => work(this.txHost.tx));
  }
}
