import { MigrationInterface, QueryRunner } from 'typeorm';

export class SharedSecrets1796299595938 implements MigrationInterface {
  name = 'SharedSecrets1796299595938';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "user_secrets" ADD "workspace_id" uuid`);
    await queryRunner.query(`CREATE INDEX "user_secrets_workspace_id_idx" ON "user_secrets"  ("workspace_id") `);
    await queryRunner.query(`ALTER TABLE "user_secrets" ADD CONSTRAINT "FK_fe0c454f9cef9a4c56ccc0d3f05" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "user_secrets" DROP CONSTRAINT "FK_fe0c454f9cef9a4c56ccc0d3f05"`);
    await queryRunner.query(`DROP INDEX "public"."user_secrets_workspace_id_idx"`);
    await queryRunner.query(`ALTER TABLE "user_secrets" DROP COLUMN "workspace_id"`);
  }
}
