import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The counters of the sign-in limits (rate-limiter-flexible's PostgreSQL store, which is told the table
 * exists). `expire` is epoch milliseconds; the index serves the periodic delete of expired rows.
 */
export class SignInRateLimits1796121463419 implements MigrationInterface {
  name = 'SignInRateLimits1796121463419';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "rate_limits" ("key" character varying(255) NOT NULL, "points" integer NOT NULL DEFAULT 0, "expire" bigint, CONSTRAINT "rate_limits_pkey" PRIMARY KEY ("key"))',
    );
    await queryRunner.query('CREATE INDEX "rate_limits_expire_idx" ON "rate_limits" ("expire")');
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."rate_limits_expire_idx"');
    await queryRunner.query('DROP TABLE "rate_limits"');
  }
}
