import { MigrationInterface, QueryRunner } from 'typeorm';

export class NodeRunSequence1796141939881 implements MigrationInterface {
  name = 'NodeRunSequence1796141939881';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "workflow_node_runs" ADD "sequence" integer NOT NULL DEFAULT '0'`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "workflow_node_runs" DROP COLUMN "sequence"`);
  }
}
