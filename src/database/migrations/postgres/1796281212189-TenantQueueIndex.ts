import { MigrationInterface, QueryRunner } from 'typeorm';

export class TenantQueueIndex1796281212189 implements MigrationInterface {
  name = 'TenantQueueIndex1796281212189';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "workflow_runs_tenant_queue_idx" ON "workflow_runs"  ("status", "idempotency_scope", "queue_priority", "created_at") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."workflow_runs_tenant_queue_idx"`);
  }
}
