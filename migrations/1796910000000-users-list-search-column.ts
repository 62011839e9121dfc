import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The users list's search at 100,000 users, without reading the table for each row it tests. A common term is
 * answered by walking the list's order until the page is full (up to 2,550 rows); each of those rows was a heap
 * fetch and a `lower(display_name)`. Now:
 * - `display_name_lower`, a stored generated column, holds `lower(display_name)` (email is stored lower-cased);
 * - the order index `users_organization_created_at_id_idx` carries `email` and `display_name_lower` (INCLUDE), so
 *   the walk is an index-only scan that tests the term on the index entries, and only the page's rows are read;
 * - the display name's trigram index is on the stored column, so its recheck does not lower-case either.
 *
 * TypeORM reads a generated column's expression from its `typeorm_metadata` table (PostgreSQL formats its own copy
 * differently), so the expression is recorded there as TypeORM would, for this database and schema. Like
 * `migrations`, that table is TypeORM's: its migration runner creates it before any migration once an entity has a
 * generated column (created here too, so the migration stands alone), and a down leaves it.
 * Adding a stored generated column rewrites the table under an exclusive lock (seconds at 100,000 users).
 */
export class UsersListSearchColumn1796910000000 implements MigrationInterface {
  name = 'UsersListSearchColumn1796910000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE IF NOT EXISTS "typeorm_metadata" ("type" character varying NOT NULL, "database" character varying, "schema" character varying, "table" character varying, "name" character varying, "value" text)`,
    );
    await queryRunner.query(
      'ALTER TABLE "users" ADD "display_name_lower" text GENERATED ALWAYS AS (lower(display_name)) STORED NOT NULL',
    );
    await queryRunner.query(
      `INSERT INTO "typeorm_metadata" ("type", "database", "schema", "table", "name", "value")
       VALUES ('GENERATED_COLUMN', current_database(), current_schema(), 'users', 'display_name_lower', 'lower(display_name)')`,
    );
    await queryRunner.query('DROP INDEX "public"."users_organization_created_at_id_idx"');
    await queryRunner.query(
      'CREATE INDEX "users_organization_created_at_id_idx" ON "users" ("organization_id", "created_at", "id") INCLUDE ("email", "display_name_lower")',
    );
    await queryRunner.query('DROP INDEX "public"."users_display_name_trgm_idx"');
    await queryRunner.query(
      'CREATE INDEX "users_display_name_lower_trgm_idx" ON "users" USING gin ("display_name_lower" gin_trgm_ops)',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."users_display_name_lower_trgm_idx"');
    await queryRunner.query(
      'CREATE INDEX "users_display_name_trgm_idx" ON "users" USING gin (lower("display_name") gin_trgm_ops)',
    );
    await queryRunner.query('DROP INDEX "public"."users_organization_created_at_id_idx"');
    await queryRunner.query(
      'CREATE INDEX "users_organization_created_at_id_idx" ON "users" ("organization_id", "created_at", "id")',
    );
    await queryRunner.query(
      `DELETE FROM "typeorm_metadata" WHERE "type" = 'GENERATED_COLUMN' AND "database" = current_database()
          AND "schema" = current_schema() AND "table" = 'users' AND "name" = 'display_name_lower'`,
    );
    await queryRunner.query('ALTER TABLE "users" DROP COLUMN "display_name_lower"');
  }
}
