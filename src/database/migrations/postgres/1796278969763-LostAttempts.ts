import { MigrationInterface, QueryRunner } from 'typeorm';

export class LostAttempts1796278969763 implements MigrationInterface {
  name = 'LostAttempts1796278969763';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "workflow_runs" ADD "lost_attempts" integer NOT NULL DEFAULT '0'`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "workflow_runs" DROP COLUMN "lost_attempts"`);
  }
}
