import { MigrationInterface, QueryRunner } from 'typeorm';

export class WebhookReplays1795632696813 implements MigrationInterface {
  name = 'WebhookReplays1795632696813';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "webhook_replays" ("id" varchar PRIMARY KEY NOT NULL, "workflow_id" varchar NOT NULL, "signature" varchar(128) NOT NULL, "created_at" datetime NOT NULL)`);
    await queryRunner.query(`CREATE INDEX "webhook_replays_created_idx" ON "webhook_replays" ("created_at") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "webhook_replays_workflow_signature_key" ON "webhook_replays" ("workflow_id", "signature") `);
    await queryRunner.query(`DROP INDEX "webhook_replays_created_idx"`);
    await queryRunner.query(`DROP INDEX "webhook_replays_workflow_signature_key"`);
    await queryRunner.query(`CREATE TABLE "temporary_webhook_replays" ("id" varchar PRIMARY KEY NOT NULL, "workflow_id" varchar NOT NULL, "signature" varchar(128) NOT NULL, "created_at" datetime NOT NULL, CONSTRAINT "FK_7c2515be4823b55cd2b5b68fcee" FOREIGN KEY ("workflow_id") REFERENCES "workflows" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await queryRunner.query(`INSERT INTO "temporary_webhook_replays"("id", "workflow_id", "signature", "created_at") SELECT "id", "workflow_id", "signature", "created_at" FROM "webhook_replays"`);
    await queryRunner.query(`DROP TABLE "webhook_replays"`);
    await queryRunner.query(`ALTER TABLE "temporary_webhook_replays" RENAME TO "webhook_replays"`);
    await queryRunner.query(`CREATE INDEX "webhook_replays_created_idx" ON "webhook_replays" ("created_at") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "webhook_replays_workflow_signature_key" ON "webhook_replays" ("workflow_id", "signature") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "webhook_replays_workflow_signature_key"`);
    await queryRunner.query(`DROP INDEX "webhook_replays_created_idx"`);
    await queryRunner.query(`ALTER TABLE "webhook_replays" RENAME TO "temporary_webhook_replays"`);
    await queryRunner.query(`CREATE TABLE "webhook_replays" ("id" varchar PRIMARY KEY NOT NULL, "workflow_id" varchar NOT NULL, "signature" varchar(128) NOT NULL, "created_at" datetime NOT NULL)`);
    await queryRunner.query(`INSERT INTO "webhook_replays"("id", "workflow_id", "signature", "created_at") SELECT "id", "workflow_id", "signature", "created_at" FROM "temporary_webhook_replays"`);
    await queryRunner.query(`DROP TABLE "temporary_webhook_replays"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "webhook_replays_workflow_signature_key" ON "webhook_replays" ("workflow_id", "signature") `);
    await queryRunner.query(`CREATE INDEX "webhook_replays_created_idx" ON "webhook_replays" ("created_at") `);
    await queryRunner.query(`DROP INDEX "webhook_replays_workflow_signature_key"`);
    await queryRunner.query(`DROP INDEX "webhook_replays_created_idx"`);
    await queryRunner.query(`DROP TABLE "webhook_replays"`);
  }
}
