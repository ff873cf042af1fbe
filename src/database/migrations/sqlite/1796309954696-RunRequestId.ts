import { MigrationInterface, QueryRunner } from 'typeorm';

export class RunRequestId1796309954696 implements MigrationInterface {
  name = 'RunRequestId1796309954696';

  // Edited from the generated table rebuild: adding a nullable column in place does not copy every
  // run (snapshots included), and leaves the same schema (`migration:check` compares).
  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "workflow_runs" ADD COLUMN "request_id" varchar(64)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "workflow_runs" DROP COLUMN "request_id"`);
  }
}
