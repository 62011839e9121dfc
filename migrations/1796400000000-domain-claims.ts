import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Which organization owns a domain within a tenant becomes one table for every kind of claim, unique per
 * (tenant, domain). The Entra connections' verified domains move into it (source `entra_verified_domain`, in
 * Graph's order and spelling), and `entra_connections.verified_domains` goes: nothing reads it any more.
 */
export class DomainClaims1796400000000 implements MigrationInterface {
  name = 'DomainClaims1796400000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TYPE "public"."domain_claim_source" AS ENUM(\'entra_verified_domain\', \'tenant_assignment\')',
    );
    await queryRunner.query(
      'CREATE TABLE "domain_claims" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenant_id" uuid NOT NULL, "domain" text NOT NULL, "display_name" text NOT NULL, "organization_id" uuid NOT NULL, "source" "public"."domain_claim_source" NOT NULL, "is_default" boolean NOT NULL DEFAULT false, "is_initial" boolean NOT NULL DEFAULT false, "position" integer NOT NULL DEFAULT \'0\', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_b4d4260d2d4bf81687b805d30d3" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "domain_claims_organization_idx" ON "domain_claims"  ("organization_id") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "domain_claims_tenant_domain_key" ON "domain_claims"  ("tenant_id", "domain") ',
    );
    await queryRunner.query(
      'ALTER TABLE "domain_claims" ADD CONSTRAINT "FK_6027c36c4fbadbf8e176de6440f" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE RESTRICT ON UPDATE NO ACTION',
    );
    // One connection per tenant, so only a domain listed twice within one connection (in another case) can
    // collide; its first spelling is kept.
    await queryRunner.query(
      `INSERT INTO "domain_claims" ("tenant_id", "domain", "display_name", "organization_id", "source", "is_default", "is_initial", "position")
       SELECT c."tenant_id", lower(trim(d.value->>'name')), trim(d.value->>'name'), c."organization_id",
              'entra_verified_domain', coalesce((d.value->>'isDefault')::boolean, false),
              coalesce((d.value->>'isInitial')::boolean, false), (d.ordinality - 1)::integer
         FROM "entra_connections" c
              CROSS JOIN LATERAL jsonb_array_elements(c."verified_domains") WITH ORDINALITY AS d(value, ordinality)
        WHERE coalesce(trim(d.value->>'name'), '') <> ''
        ORDER BY c."organization_id", d.ordinality
       ON CONFLICT ("tenant_id", "domain") DO NOTHING`,
    );
    await queryRunner.query('ALTER TABLE "entra_connections" DROP COLUMN "verified_domains"');
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "entra_connections" ADD "verified_domains" jsonb NOT NULL DEFAULT \'[]\'',
    );
    await queryRunner.query(
      `UPDATE "entra_connections" c
          SET "verified_domains" = coalesce(
                (SELECT jsonb_agg(jsonb_build_object('name', dc."display_name", 'isDefault', dc."is_default",
                                                     'isInitial', dc."is_initial")
                                  ORDER BY dc."position", dc."domain")
                   FROM "domain_claims" dc
                  WHERE dc."organization_id" = c."organization_id" AND dc."tenant_id" = c."tenant_id"
                    AND dc."source" = 'entra_verified_domain'),
                '[]'::jsonb)`,
    );
    await queryRunner.query('ALTER TABLE "domain_claims" DROP CONSTRAINT "FK_6027c36c4fbadbf8e176de6440f"');
    await queryRunner.query('DROP INDEX "public"."domain_claims_tenant_domain_key"');
    await queryRunner.query('DROP INDEX "public"."domain_claims_organization_idx"');
    await queryRunner.query('DROP TABLE "domain_claims"');
    await queryRunner.query('DROP TYPE "public"."domain_claim_source"');
  }
}
