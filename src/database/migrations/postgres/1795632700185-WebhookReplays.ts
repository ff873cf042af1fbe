import { MigrationInterface, QueryRunner } from 'typeorm';

export class WebhookReplays1795632700185 implements MigrationInterface {
  name = 'WebhookReplays1795632700185';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "webhook_replays" ("id" uuid NOT NULL, "workflow_id" uuid NOT NULL, "signature" character varying(128) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_9bd3bad94fcbeab595599df4d0b" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "webhook_replays_created_idx" ON "webhook_replays"  ("created_at") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "webhook_replays_workflow_signature_key" ON "webhook_replays"  ("workflow_id", "signature") `);
    await queryRunner.query(`ALTER TABLE "webhook_replays" ADD CONSTRAINT "FK_7c2515be4823b55cd2b5b68fcee" FOREIGN KEY ("workflow_id") REFERENCES "workflows"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "webhook_replays" DROP CONSTRAINT "FK_7c2515be4823b55cd2b5b68fcee"`);
    await queryRunner.query(`DROP INDEX "public"."webhook_replays_workflow_signature_key"`);
    await queryRunner.query(`DROP INDEX "public"."webhook_replays_created_idx"`);
    await queryRunner.query(`DROP TABLE "webhook_replays"`);
  }
}
