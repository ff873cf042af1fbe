import { MigrationInterface, QueryRunner } from 'typeorm';

export class RunTraceParent1796393820101 implements MigrationInterface {
  name = 'RunTraceParent1796393820101';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "workflow_runs" ADD "trace_parent" character varying(55)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "workflow_runs" DROP COLUMN "trace_parent"`);
  }
}
