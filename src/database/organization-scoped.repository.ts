import type {
  DeepPartial,
  EntityManager,
  EntityTarget,
  FindManyOptions,
  FindOptionsWhere,
  Repository,
  SelectQueryBuilder,
} from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';

/** A row that belongs to one organization (audit events may also belong to none: system events). */
export interface OrganizationOwned {
  organizationId: string | null;
}

/** A programming error: a query on organization-owned rows that would not be scoped to one organization. */
export class UnscopedQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnscopedQueryError';
  }
}

/**
 * Access to an organization-owned table that cannot forget the organization: every method takes the
 * organization id first, merges it into the criteria (or stamps it on what it writes), and refuses a call
 * that would be unscoped. "Another organization's resource is a 404" then holds by construction.
 *
 * It reads its `EntityManager` on every call, so a repository built on it joins whatever transaction is
 * current. A query that must span organizations goes through `acrossOrganizations()`, whose name makes the
 * exception visible at the call site.
 */
export class OrganizationScopedRepository<T extends OrganizationOwned> {
  constructor(
    private readonly target: EntityTarget<T>,
    private readonly manager: () => EntityManager,
  ) {}

  private get repository(): Repository<T> {
    return this.manager().getRepository(this.target);
  }

  async findOneBy(organizationId: string, where: FindOptionsWhere<T>): Promise<T | null> {
    return this.repository.findOneBy(this.scope(organizationId, where));
  }

  async find(
    organizationId: string,
    options: FindManyOptions<T> & { where?: FindOptionsWhere<T> } = {},
  ): Promise<T[]> {
    return this.repository.find({ ...options, where: this.scope(organizationId, options.where) });
  }

  async countBy(organizationId: string, where: FindOptionsWhere<T> = {}): Promise<number> {
    return this.repository.countBy(this.scope(organizationId, where));
  }

  async existsBy(organizationId: string, where: FindOptionsWhere<T> = {}): Promise<boolean> {
    return this.repository.existsBy(this.scope(organizationId, where));
  }

  /** Builds and saves a new row of the organization. */
  async create(organizationId: string, values: DeepPartial<T>): Promise<T> {
    const repository = this.repository;
    return repository.save(repository.create(this.stamp(organizationId, values)));
  }

  /** Saves a loaded row; refuses one that belongs to another organization. */
  async save(organizationId: string, entity: T): Promise<T> {
    this.assertOrganizationId(organizationId);
    if (entity.organizationId !== organizationId) {
      throw new UnscopedQueryError('The row belongs to another organization than the one named.');
    }
    return this.repository.save(entity);
  }

  async insert(organizationId: string, rows: DeepPartial<T>[]): Promise<void> {
    if (rows.length === 0) return;
    const repository = this.repository;
    const entities = rows.map((row) => repository.create(this.stamp(organizationId, row)));
    await repository.insert(entities as QueryDeepPartialEntity<T>[]);
  }

  /** Inserts or, on a conflict of `conflictPaths` (which should include organizationId), updates one row. */
  async upsert(organizationId: string, values: DeepPartial<T>, conflictPaths: string[]): Promise<void> {
    await this.repository.upsert(
      this.stamp(organizationId, values) as QueryDeepPartialEntity<T>,
      conflictPaths,
    );
  }

  /**
   * Inserts one new row of the organization and returns it with its generated and default columns: one
   * `INSERT … RETURNING`, where `create` (TypeORM's save) first reads the row back when its id is given.
   */
  async insertOne(organizationId: string, values: DeepPartial<T>): Promise<T> {
    const repository = this.repository;
    const entity = repository.create(this.stamp(organizationId, values));
    await repository.insert(entity as QueryDeepPartialEntity<T>);
    return entity;
  }

  /**
   * Writes `changes` to a loaded row of the organization (named by `key`) in one `UPDATE … RETURNING`, where
   * TypeORM's save first reads the row again to compare, and applies them with the new update timestamp to
   * the entity. Throws when the row is not in the organization.
   */
  async updateLoaded(organizationId: string, entity: T, key: Partial<T>, changes: Partial<T>): Promise<T> {
    this.assertOrganizationId(organizationId);
    if (entity.organizationId !== organizationId) {
      throw new UnscopedQueryError('The row belongs to another organization than the one named.');
    }
    const metadata = this.repository.metadata;
    const updated = metadata.updateDateColumn;
    const query = this.repository
      .createQueryBuilder()
      .update()
      .set(changes as QueryDeepPartialEntity<T>)
      .where({ ...key, organizationId } as FindOptionsWhere<T>)
      .updateEntity(false);
    if (updated) query.returning(`"${updated.databaseName}"`);
    const result = await query.execute();
    if (!result.affected) throw new UnscopedQueryError('The row is not in the organization named.');
    Object.assign(entity, changes);
    if (updated) {
      const raw = (result.raw as Record<string, unknown>[])[0][updated.databaseName];
      updated.setEntityValue(entity, metadata.connection.driver.prepareHydratedValue(raw, updated));
    }
    return entity;
  }

  /** Returns how many rows changed. */
  async update(
    organizationId: string,
    criteria: FindOptionsWhere<T>,
    values: QueryDeepPartialEntity<T>,
  ): Promise<number> {
    const result = await this.repository.update(this.scope(organizationId, criteria), values);
    return result.affected ?? 0;
  }

  /** Returns how many rows went. */
  async delete(organizationId: string, criteria: FindOptionsWhere<T>): Promise<number> {
    const result = await this.repository.delete(this.scope(organizationId, criteria));
    return result.affected ?? 0;
  }

  /**
   * A query builder already restricted to the organization (`alias.organization_id`). Extend it with
   * `andWhere` only: `where` would replace the restriction.
   */
  queryBuilder(organizationId: string, alias: string): SelectQueryBuilder<T> {
    this.assertOrganizationId(organizationId);
    return this.repository
      .createQueryBuilder(alias)
      .where(`${alias}.organization_id = :scopedOrganizationId`, { scopedOrganizationId: organizationId });
  }

  /** Reads one row of the organization and locks it (`FOR UPDATE`) for the rest of the current transaction. */
  async lockOneBy(organizationId: string, where: FindOptionsWhere<T>): Promise<T | null> {
    return this.repository.findOne({
      where: this.scope(organizationId, where),
      lock: { mode: 'pessimistic_write' },
    });
  }

  /**
   * The unscoped TypeORM repository, for the few queries that must span organizations (a worker claiming
   * the next job, a sign-in looking a tenant up). Name the exception in the calling method too.
   */
  acrossOrganizations(): Repository<T> {
    return this.repository;
  }

  private scope(organizationId: string, where: FindOptionsWhere<T> = {}): FindOptionsWhere<T> {
    this.assertOrganizationId(organizationId);
    if (Array.isArray(where)) {
      // An OR of clauses would need the organization in each; nobody needs it yet, so nobody gets it wrong.
      throw new UnscopedQueryError('OR criteria are not supported on organization-scoped repositories.');
    }
    if ('organizationId' in where) {
      throw new UnscopedQueryError(
        'Do not name organizationId in the criteria: it is the first argument and merged in.',
      );
    }
    return { ...where, organizationId } as FindOptionsWhere<T>;
  }

  private stamp(organizationId: string, values: DeepPartial<T>): DeepPartial<T> {
    this.assertOrganizationId(organizationId);
    const named = (values as Partial<OrganizationOwned>).organizationId;
    if (named !== undefined && named !== organizationId) {
      throw new UnscopedQueryError('The values name another organization than the one named.');
    }
    return { ...values, organizationId } as DeepPartial<T>;
  }

  // TypeORM drops `undefined` from a WHERE, which would turn "this organization's rows" into "all rows".
  private assertOrganizationId(organizationId: string): void {
    if (typeof organizationId !== 'string' || organizationId.length === 0) {
      throw new UnscopedQueryError('An organization id is required for organization-owned rows.');
    }
  }
}
