import { MigrationInterface, QueryRunner } from 'typeorm';

export class ScheduleClaims1795639417239 implements MigrationInterface {
  name = 'ScheduleClaims1795639417239';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "workflow_schedules" ADD "last_skip_reason" text`);
    await queryRunner.query(`ALTER TABLE "workflow_schedules" ADD "last_skipped_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`ALTER TABLE "workflow_schedules" ADD "claimed_by" character varying(100)`);
    await queryRunner.query(`ALTER TABLE "workflow_schedules" ADD "claim_expires_at" TIMESTAMP WITH TIME ZONE`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "workflow_schedules" DROP COLUMN "claim_expires_at"`);
    await queryRunner.query(`ALTER TABLE "workflow_schedules" DROP COLUMN "claimed_by"`);
    await queryRunner.query(`ALTER TABLE "workflow_schedules" DROP COLUMN "last_skipped_at"`);
    await queryRunner.query(`ALTER TABLE "workflow_schedules" DROP COLUMN "last_skip_reason"`);
  }
}
