import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The users list at 100,000 users: its `(created_at, id)` order and keyset cursor within an organization read
 * an index instead of sorting the organization (with or without a status filter), and `?search=` (a
 * case-insensitive substring of the email or display name) reads trigram indexes instead of every row.
 *
 * `pg_trgm` is a trusted extension (PostgreSQL 13+): a role with CREATE on the database may create it; a managed
 * server may first need it allowed (Azure: `azure.extensions`). `down` keeps the extension: other objects may
 * use it, and dropping one needs more privileges than creating a trusted one.
 */
export class UsersListIndexes1796520000000 implements MigrationInterface {
  name = 'UsersListIndexes1796520000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE INDEX "users_organization_created_at_id_idx" ON "users"  ("organization_id", "created_at", "id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "users_organization_status_created_at_id_idx" ON "users"  ("organization_id", "status", "created_at", "id") ',
    );
    await queryRunner.query('CREATE EXTENSION IF NOT EXISTS pg_trgm');
    // Exactly the expressions the list's LIKE predicates use (email is stored lower-cased).
    await queryRunner.query(
      'CREATE INDEX "users_email_trgm_idx" ON "users" USING gin ("email" gin_trgm_ops)',
    );
    await queryRunner.query(
      'CREATE INDEX "users_display_name_trgm_idx" ON "users" USING gin (lower("display_name") gin_trgm_ops)',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."users_display_name_trgm_idx"');
    await queryRunner.query('DROP INDEX "public"."users_email_trgm_idx"');
    await queryRunner.query('DROP INDEX "public"."users_organization_status_created_at_id_idx"');
    await queryRunner.query('DROP INDEX "public"."users_organization_created_at_id_idx"');
  }
}
