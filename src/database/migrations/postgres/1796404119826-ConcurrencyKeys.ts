import { MigrationInterface, QueryRunner } from 'typeorm';

export class ConcurrencyKeys1796404119826 implements MigrationInterface {
  name = 'ConcurrencyKeys1796404119826';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "workflows" ADD "concurrency_key" character varying(500)`);
    await queryRunner.query(`ALTER TABLE "workflows" ADD "concurrency_key_limit" integer`);
    await queryRunner.query(`ALTER TABLE "workflows" ADD "concurrency_on_limit" character varying(16) NOT NULL DEFAULT 'queue'`);
    await queryRunner.query(`ALTER TABLE "workflows" ADD "max_queued" integer`);
    await queryRunner.query(`ALTER TABLE "workflows" ADD "queued_ttl_sec" integer`);
    await queryRunner.query(`ALTER TABLE "workflow_runs" ADD "concurrency_key" character varying(255)`);
    await queryRunner.query(`ALTER TABLE "workflow_runs" ADD "queue_expires_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`CREATE INDEX "workflow_runs_queue_expiry_idx" ON "workflow_runs"  ("status", "queue_expires_at") `);
    await queryRunner.query(`CREATE INDEX "workflow_runs_concurrency_key_idx" ON "workflow_runs"  ("workflow_id", "concurrency_key", "status") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."workflow_runs_concurrency_key_idx"`);
    await queryRunner.query(`DROP INDEX "public"."workflow_runs_queue_expiry_idx"`);
    await queryRunner.query(`ALTER TABLE "workflow_runs" DROP COLUMN "queue_expires_at"`);
    await queryRunner.query(`ALTER TABLE "workflow_runs" DROP COLUMN "concurrency_key"`);
    await queryRunner.query(`ALTER TABLE "workflows" DROP COLUMN "queued_ttl_sec"`);
    await queryRunner.query(`ALTER TABLE "workflows" DROP COLUMN "max_queued"`);
    await queryRunner.query(`ALTER TABLE "workflows" DROP COLUMN "concurrency_on_limit"`);
    await queryRunner.query(`ALTER TABLE "workflows" DROP COLUMN "concurrency_key_limit"`);
    await queryRunner.query(`ALTER TABLE "workflows" DROP COLUMN "concurrency_key"`);
  }
}
