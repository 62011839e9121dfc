import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../test/support/test-app.js';
import { GroupRoleMappingEntity } from '../role-mapping/entities/group-role-mapping.entity.js';
import { createDataSource } from '../app.data-source.js';
import { OrganizationScopedRepository, UnscopedQueryError } from './organization-scoped.repository.js';

describe('OrganizationScopedRepository (real PostgreSQL)', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let dataSource: DataSource;
  let mappings: OrganizationScopedRepository<GroupRoleMappingEntity>;
  let orgA: string;
  let orgB: string;

  const mapping = (groupDisplayName: string) => ({
    groupId: randomUUID(),
    groupDisplayName,
    role: 'manager' as const,
    createdByUserId: null,
  });

  const rowsOf = async (organizationId: string) =>
    (
      await dataSource.query<{ group_display_name: string }[]>(
        'SELECT group_display_name FROM group_role_mappings WHERE organization_id = $1 ORDER BY 1',
        [organizationId],
      )
    ).map((r) => r.group_display_name);

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await createDataSource(database.url).initialize();
    mappings = new OrganizationScopedRepository(GroupRoleMappingEntity, () => dataSource.manager);
  });

  afterAll(async () => {
    await dataSource.destroy();
    await database.drop();
  });

  beforeEach(async () => {
    await dataSource.query('DELETE FROM group_role_mappings');
    const rows = await dataSource.query<{ id: string }[]>(
      "INSERT INTO organizations (name) VALUES ('A'), ('B') RETURNING id",
    );
    [orgA, orgB] = rows.map((r) => r.id);
  });

  it('stamps the organization on what it creates and inserts', async () => {
    const created = await mappings.create(orgA, mapping('a1'));
    expect(created.organizationId).toBe(orgA);
    await mappings.insert(orgB, [mapping('b1'), mapping('b2')]);
    expect(await rowsOf(orgA)).toEqual(['a1']);
    expect(await rowsOf(orgB)).toEqual(['b1', 'b2']);
  });

  it("never reads, counts, updates or deletes another organization's rows", async () => {
    const a = await mappings.create(orgA, mapping('a1'));
    await mappings.create(orgB, mapping('b1'));

    expect(await mappings.findOneBy(orgB, { id: a.id })).toBeNull();
    expect((await mappings.findOneBy(orgA, { id: a.id }))?.groupDisplayName).toBe('a1');
    expect((await mappings.find(orgB)).map((m) => m.groupDisplayName)).toEqual(['b1']);
    expect(await mappings.countBy(orgA)).toBe(1);
    expect(await mappings.existsBy(orgB, { id: a.id })).toBe(false);
    expect(await mappings.update(orgB, { id: a.id }, { groupDisplayName: 'hijacked' })).toBe(0);
    expect(await mappings.delete(orgB, { id: a.id })).toBe(0);
    expect(await mappings.queryBuilder(orgB, 'm').andWhere('m.id = :id', { id: a.id }).getOne()).toBeNull();
    expect(await rowsOf(orgA)).toEqual(['a1']);

    expect(await mappings.update(orgA, { id: a.id }, { groupDisplayName: 'renamed' })).toBe(1);
    expect(await rowsOf(orgA)).toEqual(['renamed']);
    expect(await mappings.delete(orgA, { id: a.id })).toBe(1);
    expect(await rowsOf(orgA)).toEqual([]);
  });

  it('refuses a missing or empty organization id instead of running an unscoped query', async () => {
    await mappings.create(orgA, mapping('a1'));
    const missing = undefined as unknown as string;
    await expect(mappings.find(missing)).rejects.toThrow(UnscopedQueryError);
    await expect(mappings.findOneBy('', {})).rejects.toThrow(UnscopedQueryError);
    await expect(mappings.countBy(missing)).rejects.toThrow(UnscopedQueryError);
    await expect(mappings.update(missing, {}, { groupDisplayName: 'all of them' })).rejects.toThrow(
      UnscopedQueryError,
    );
    await expect(mappings.delete('', {})).rejects.toThrow(UnscopedQueryError);
    await expect(mappings.create(missing, mapping('orphan'))).rejects.toThrow(UnscopedQueryError);
    expect(() => mappings.queryBuilder(missing, 'm')).toThrow(UnscopedQueryError);
    expect(await rowsOf(orgA)).toEqual(['a1']);
  });

  it('refuses criteria or values that name the organization themselves', async () => {
    const a = await mappings.create(orgA, mapping('a1'));
    // Such a call would either be redundant or an attempt to reach across; both are bugs at the call site.
    await expect(mappings.findOneBy(orgB, { organizationId: orgA })).rejects.toThrow(UnscopedQueryError);
    await expect(mappings.update(orgB, { organizationId: orgA }, { groupDisplayName: 'x' })).rejects.toThrow(
      UnscopedQueryError,
    );
    await expect(mappings.create(orgB, { ...mapping('b1'), organizationId: orgA })).rejects.toThrow(
      UnscopedQueryError,
    );
    await expect(mappings.save(orgB, a)).rejects.toThrow(UnscopedQueryError);
    expect(await rowsOf(orgA)).toEqual(['a1']);
    expect(await rowsOf(orgB)).toEqual([]);
  });

  it('joins the transaction its manager names (row locks included; a rollback leaves nothing)', async () => {
    const a = await mappings.create(orgA, mapping('a1'));
    await dataSource.transaction(async (manager) => {
      const inTx = new OrganizationScopedRepository(GroupRoleMappingEntity, () => manager);
      expect(await inTx.lockOneBy(orgB, { id: a.id })).toBeNull();
      expect((await inTx.lockOneBy(orgA, { id: a.id }))?.id).toBe(a.id);
    });
    await mappings.delete(orgA, { id: a.id });
    await expect(
      dataSource.transaction(async (manager) => {
        const inTx = new OrganizationScopedRepository(GroupRoleMappingEntity, () => manager);
        await inTx.create(orgA, mapping('rolled back'));
        expect(await inTx.countBy(orgA)).toBe(1);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await rowsOf(orgA)).toEqual([]);
  });
});
