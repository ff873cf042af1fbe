import { MigrationInterface, QueryRunner } from 'typeorm';

export class RunRequestId1796309957838 implements MigrationInterface {
  name = 'RunRequestId1796309957838';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "workflow_runs" ADD "request_id" character varying(64)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "workflow_runs" DROP COLUMN "request_id"`);
  }
}
