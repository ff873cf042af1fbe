import { MigrationInterface, QueryRunner } from 'typeorm';

export class TenantQueueIndex1796281210401 implements MigrationInterface {
  name = 'TenantQueueIndex1796281210401';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "workflow_runs_claim_idx"`);
    await queryRunner.query(`CREATE INDEX "workflow_runs_tenant_queue_idx" ON "workflow_runs" ("status", "idempotency_scope", "queue_priority", "created_at") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "workflow_runs_tenant_queue_idx"`);
    await queryRunner.query(`CREATE INDEX "workflow_runs_claim_idx" ON "workflow_runs" ("status", "resume_at", "idempotency_scope", "queue_priority", "created_at", "workflow_id", "id") WHERE status = 'queued'`);
  }
}
