import { MigrationInterface, QueryRunner } from 'typeorm';

export class FairClaimIndex1796278793227 implements MigrationInterface {
  name = 'FairClaimIndex1796278793227';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "workflow_runs_claim_idx" ON "workflow_runs" ("status", "resume_at", "idempotency_scope", "queue_priority", "created_at", "workflow_id", "id") WHERE status = 'queued'`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "workflow_runs_claim_idx"`);
  }
}
