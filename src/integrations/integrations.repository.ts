import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Tx } from '../common/transaction.js';
import { EntraConnectionEntity } from './entities/entra-connection.entity.js';

@Injectable()
export class IntegrationsRepository {
  constructor(private readonly dataSource: DataSource) {}

  private repo(tx?: Tx) {
    return (tx ?? this.dataSource.manager).getRepository(EntraConnectionEntity);
  }

  findByOrganization(organizationId: string, tx?: Tx): Promise<EntraConnectionEntity | null> {
    return this.repo(tx).findOneBy({ organizationId });
  }

  findByTenant(tenantId: string, tx?: Tx): Promise<EntraConnectionEntity | null> {
    return this.repo(tx).findOneBy({ tenantId });
  }

  /** Locks the organization's connection row for the rest of `tx` (token refreshes run one at a time). */
  lockByOrganization(organizationId: string, tx: Tx): Promise<EntraConnectionEntity | null> {
    return this.repo(tx)
      .createQueryBuilder('c')
      .setLock('pessimistic_write')
      .where('c.organization_id = :organizationId', { organizationId })
      .getOne();
  }

  save(connection: EntraConnectionEntity, tx?: Tx): Promise<EntraConnectionEntity> {
    return this.repo(tx).save(connection);
  }

  create(values: Partial<EntraConnectionEntity>): EntraConnectionEntity {
    return this.repo().create(values);
  }

  async delete(id: string, tx: Tx): Promise<void> {
    await this.repo(tx).delete({ id });
  }

  listOrganizationIds(): Promise<string[]> {
    return this.repo()
      .find({ select: { organizationId: true } })
      .then((rows) => rows.map((r) => r.organizationId));
  }
}
