import { MigrationInterface, QueryRunner } from 'typeorm';

export class RunTraceParent1796393817989 implements MigrationInterface {
  name = 'RunTraceParent1796393817989';

  // Edited from the generated table rebuild: adding a nullable column in place does not copy every
  // run (snapshots included), and leaves the same schema (`migration:check` compares).
  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "workflow_runs" ADD COLUMN "trace_parent" varchar(55)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "workflow_runs" DROP COLUMN "trace_parent"`);
  }
}
