import { MigrationInterface, QueryRunner } from 'typeorm';

export class ConcurrencyKeys1796404117385 implements MigrationInterface {
  name = 'ConcurrencyKeys1796404117385';

  // Edited from the generated table rebuilds: adding columns in place does not copy every run
  // (snapshots included), and leaves the same schema (`migration:check` compares).
  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "workflows" ADD COLUMN "concurrency_key" varchar(500)`);
    await queryRunner.query(`ALTER TABLE "workflows" ADD COLUMN "concurrency_key_limit" integer`);
    await queryRunner.query(
      `ALTER TABLE "workflows" ADD COLUMN "concurrency_on_limit" varchar(16) NOT NULL DEFAULT ('queue')`,
    );
    await queryRunner.query(`ALTER TABLE "workflows" ADD COLUMN "max_queued" integer`);
    await queryRunner.query(`ALTER TABLE "workflows" ADD COLUMN "queued_ttl_sec" integer`);
    await queryRunner.query(`ALTER TABLE "workflow_runs" ADD COLUMN "concurrency_key" varchar(255)`);
    await queryRunner.query(`ALTER TABLE "workflow_runs" ADD COLUMN "queue_expires_at" datetime`);
    await queryRunner.query(
      `CREATE INDEX "workflow_runs_queue_expiry_idx" ON "workflow_runs" ("status", "queue_expires_at") `,
    );
    await queryRunner.query(
      `CREATE INDEX "workflow_runs_concurrency_key_idx" ON "workflow_runs" ("workflow_id", "concurrency_key", "status") `,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "workflow_runs_concurrency_key_idx"`);
    await queryRunner.query(`DROP INDEX "workflow_runs_queue_expiry_idx"`);
    await queryRunner.query(`ALTER TABLE "workflow_runs" DROP COLUMN "queue_expires_at"`);
    await queryRunner.query(`ALTER TABLE "workflow_runs" DROP COLUMN "concurrency_key"`);
    await queryRunner.query(`ALTER TABLE "workflows" DROP COLUMN "queued_ttl_sec"`);
    await queryRunner.query(`ALTER TABLE "workflows" DROP COLUMN "max_queued"`);
    await queryRunner.query(`ALTER TABLE "workflows" DROP COLUMN "concurrency_on_limit"`);
    await queryRunner.query(`ALTER TABLE "workflows" DROP COLUMN "concurrency_key_limit"`);
    await queryRunner.query(`ALTER TABLE "workflows" DROP COLUMN "concurrency_key"`);
  }
}
