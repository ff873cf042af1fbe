import { MigrationInterface, QueryRunner } from 'typeorm';

export class EmailTokens1796301758183 implements MigrationInterface {
  name = 'EmailTokens1796301758183';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "email_tokens" ("token_hash" varchar(64) PRIMARY KEY NOT NULL, "user_id" varchar NOT NULL, "purpose" varchar(20) NOT NULL, "expires_at" datetime NOT NULL, "used_at" datetime, "created_at" datetime NOT NULL DEFAULT (datetime('now')))`);
    await queryRunner.query(`CREATE INDEX "email_tokens_expires_at_idx" ON "email_tokens" ("expires_at") `);
    await queryRunner.query(`CREATE INDEX "email_tokens_user_id_purpose_idx" ON "email_tokens" ("user_id", "purpose") `);
    await queryRunner.query(`DROP INDEX "email_tokens_expires_at_idx"`);
    await queryRunner.query(`DROP INDEX "email_tokens_user_id_purpose_idx"`);
    await queryRunner.query(`CREATE TABLE "temporary_email_tokens" ("token_hash" varchar(64) PRIMARY KEY NOT NULL, "user_id" varchar NOT NULL, "purpose" varchar(20) NOT NULL, "expires_at" datetime NOT NULL, "used_at" datetime, "created_at" datetime NOT NULL DEFAULT (datetime('now')), CONSTRAINT "FK_018295f41628791c301bfe8b625" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await queryRunner.query(`INSERT INTO "temporary_email_tokens"("token_hash", "user_id", "purpose", "expires_at", "used_at", "created_at") SELECT "token_hash", "user_id", "purpose", "expires_at", "used_at", "created_at" FROM "email_tokens"`);
    await queryRunner.query(`DROP TABLE "email_tokens"`);
    await queryRunner.query(`ALTER TABLE "temporary_email_tokens" RENAME TO "email_tokens"`);
    await queryRunner.query(`CREATE INDEX "email_tokens_expires_at_idx" ON "email_tokens" ("expires_at") `);
    await queryRunner.query(`CREATE INDEX "email_tokens_user_id_purpose_idx" ON "email_tokens" ("user_id", "purpose") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "email_tokens_user_id_purpose_idx"`);
    await queryRunner.query(`DROP INDEX "email_tokens_expires_at_idx"`);
    await queryRunner.query(`ALTER TABLE "email_tokens" RENAME TO "temporary_email_tokens"`);
    await queryRunner.query(`CREATE TABLE "email_tokens" ("token_hash" varchar(64) PRIMARY KEY NOT NULL, "user_id" varchar NOT NULL, "purpose" varchar(20) NOT NULL, "expires_at" datetime NOT NULL, "used_at" datetime, "created_at" datetime NOT NULL DEFAULT (datetime('now')))`);
    await queryRunner.query(`INSERT INTO "email_tokens"("token_hash", "user_id", "purpose", "expires_at", "used_at", "created_at") SELECT "token_hash", "user_id", "purpose", "expires_at", "used_at", "created_at" FROM "temporary_email_tokens"`);
    await queryRunner.query(`DROP TABLE "temporary_email_tokens"`);
    await queryRunner.query(`CREATE INDEX "email_tokens_user_id_purpose_idx" ON "email_tokens" ("user_id", "purpose") `);
    await queryRunner.query(`CREATE INDEX "email_tokens_expires_at_idx" ON "email_tokens" ("expires_at") `);
    await queryRunner.query(`DROP INDEX "email_tokens_user_id_purpose_idx"`);
    await queryRunner.query(`DROP INDEX "email_tokens_expires_at_idx"`);
    await queryRunner.query(`DROP TABLE "email_tokens"`);
  }
}
