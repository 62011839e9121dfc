import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { preparedQuery } from '../database/prepared-statements.js';
import { OrganizationEntity, type Plan } from './entities/organization.entity.js';

/** The lock statement: every status change of the organization's users runs it, as a prepared statement. */
const LOCK = `SELECT id, name, plan, seat_limit, seats_used, seat_queue_length, created_at, updated_at
                FROM organizations WHERE id = $1 FOR NO KEY UPDATE`;

interface OrganizationRow {
  id: string;
  name: string;
  plan: Plan;
  seat_limit: number;
  seats_used: number;
  seat_queue_length: number;
  created_at: Date;
  updated_at: Date;
}

const entityOf = (row: OrganizationRow): OrganizationEntity =>
  Object.assign(new OrganizationEntity(), {
    id: row.id,
    name: row.name,
    plan: row.plan,
    seatLimit: row.seat_limit,
    seatsUsed: row.seats_used,
    seatQueueLength: row.seat_queue_length,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });

@Injectable()
export class OrganizationsRepository {
  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {}

  // The organizations table is the tenant root, not organization-owned data: it is keyed by the id itself.
  private repo() {
    return this.txHost.tx.getRepository(OrganizationEntity);
  }

  findById(id: string): Promise<OrganizationEntity | null> {
    return this.repo().findOneBy({ id });
  }

  /**
   * Row-locks the organization for the rest of the current transaction, so seat and owner checks of
   * concurrent transactions run one after another. `FOR NO KEY UPDATE`: it excludes the other lockers (and the
   * seat-count triggers' updates) but not the key-share locks that inserts referencing the organization take,
   * so a transaction that wrote such a row first (a SCIM row before its user) cannot deadlock with another.
   */
  async lock(id: string): Promise<OrganizationEntity | null> {
    const [row] = await preparedQuery<OrganizationRow>(this.txHost.tx, LOCK, [id]);
    return row ? entityOf(row) : null;
  }

  /**
   * `lock`, and in the same statement a row of another table that references the organization (`along`: its
   * FROM item, join condition over `o`, select-list items, the lock clause for it and the reader of its columns;
   * its own parameters from $2). PostgreSQL locks the rows in the order of the locking clauses: the organization
   * first, then that row, the order every status change keeps. No row (nothing matched `along`): nothing locked.
   */
  async lockAlong<T>(
    id: string,
    along: { from: string; on: string; columns: string; lock: string; read(row: Record<string, unknown>): T },
    values: unknown[],
  ): Promise<{ organization: OrganizationEntity; row: T } | null> {
    const [row] = await preparedQuery<OrganizationRow & Record<string, unknown>>(
      this.txHost.tx,
      `SELECT o.id, o.name, o.plan, o.seat_limit, o.seats_used, o.seat_queue_length, o.created_at, o.updated_at,
              ${along.columns}
         FROM organizations o JOIN ${along.from} ON ${along.on}
        WHERE o.id = $1 FOR NO KEY UPDATE OF o ${along.lock}`,
      [id, ...values],
    );
    return row ? { organization: entityOf(row), row: along.read(row) } : null;
  }

  create(
    values: Pick<OrganizationEntity, 'name'> & Partial<OrganizationEntity>,
  ): Promise<OrganizationEntity> {
    const repo = this.repo();
    return repo.save(repo.create(values));
  }

  save(organization: OrganizationEntity): Promise<OrganizationEntity> {
    return this.repo().save(organization);
  }

  /** Every organization (the operator CLI). */
  listAll(): Promise<OrganizationEntity[]> {
    return this.repo().find({ order: { createdAt: 'ASC' } });
  }
}
