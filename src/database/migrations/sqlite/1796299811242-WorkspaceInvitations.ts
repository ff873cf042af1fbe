import { MigrationInterface, QueryRunner } from 'typeorm';

export class WorkspaceInvitations1796299811242 implements MigrationInterface {
  name = 'WorkspaceInvitations1796299811242';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "workspace_invitations" ("id" varchar PRIMARY KEY NOT NULL, "workspace_id" varchar NOT NULL, "email" varchar(320) NOT NULL, "role" varchar CHECK( "role" IN ('owner','admin','user','viewer') ) NOT NULL, "token_hash" varchar(64) NOT NULL, "status" varchar CHECK( "status" IN ('pending','accepted','declined','revoked') ) NOT NULL DEFAULT ('pending'), "created_by" varchar NOT NULL, "created_at" datetime NOT NULL, "expires_at" datetime NOT NULL, "accepted_at" datetime, "declined_at" datetime, "revoked_at" datetime)`);
    await queryRunner.query(`CREATE UNIQUE INDEX "workspace_invitations_token_hash_key" ON "workspace_invitations" ("token_hash") `);
    await queryRunner.query(`CREATE INDEX "workspace_invitations_created_by_idx" ON "workspace_invitations" ("created_by") `);
    await queryRunner.query(`CREATE INDEX "workspace_invitations_email_status_idx" ON "workspace_invitations" ("email", "status") `);
    await queryRunner.query(`CREATE INDEX "workspace_invitations_workspace_status_idx" ON "workspace_invitations" ("workspace_id", "status") `);
    await queryRunner.query(`DROP INDEX "workspace_invitations_token_hash_key"`);
    await queryRunner.query(`DROP INDEX "workspace_invitations_created_by_idx"`);
    await queryRunner.query(`DROP INDEX "workspace_invitations_email_status_idx"`);
    await queryRunner.query(`DROP INDEX "workspace_invitations_workspace_status_idx"`);
    await queryRunner.query(`CREATE TABLE "temporary_workspace_invitations" ("id" varchar PRIMARY KEY NOT NULL, "workspace_id" varchar NOT NULL, "email" varchar(320) NOT NULL, "role" varchar CHECK( "role" IN ('owner','admin','user','viewer') ) NOT NULL, "token_hash" varchar(64) NOT NULL, "status" varchar CHECK( "status" IN ('pending','accepted','declined','revoked') ) NOT NULL DEFAULT ('pending'), "created_by" varchar NOT NULL, "created_at" datetime NOT NULL, "expires_at" datetime NOT NULL, "accepted_at" datetime, "declined_at" datetime, "revoked_at" datetime, CONSTRAINT "FK_cf5df369b7a86ea3cdf18c7b56d" FOREIGN KEY ("workspace_id") REFERENCES "workspaces" ("id") ON DELETE CASCADE ON UPDATE NO ACTION, CONSTRAINT "FK_ebebb9e4c86f8f1dc43634ae4ce" FOREIGN KEY ("created_by") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await queryRunner.query(`INSERT INTO "temporary_workspace_invitations"("id", "workspace_id", "email", "role", "token_hash", "status", "created_by", "created_at", "expires_at", "accepted_at", "declined_at", "revoked_at") SELECT "id", "workspace_id", "email", "role", "token_hash", "status", "created_by", "created_at", "expires_at", "accepted_at", "declined_at", "revoked_at" FROM "workspace_invitations"`);
    await queryRunner.query(`DROP TABLE "workspace_invitations"`);
    await queryRunner.query(`ALTER TABLE "temporary_workspace_invitations" RENAME TO "workspace_invitations"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "workspace_invitations_token_hash_key" ON "workspace_invitations" ("token_hash") `);
    await queryRunner.query(`CREATE INDEX "workspace_invitations_created_by_idx" ON "workspace_invitations" ("created_by") `);
    await queryRunner.query(`CREATE INDEX "workspace_invitations_email_status_idx" ON "workspace_invitations" ("email", "status") `);
    await queryRunner.query(`CREATE INDEX "workspace_invitations_workspace_status_idx" ON "workspace_invitations" ("workspace_id", "status") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "workspace_invitations_workspace_status_idx"`);
    await queryRunner.query(`DROP INDEX "workspace_invitations_email_status_idx"`);
    await queryRunner.query(`DROP INDEX "workspace_invitations_created_by_idx"`);
    await queryRunner.query(`DROP INDEX "workspace_invitations_token_hash_key"`);
    await queryRunner.query(`ALTER TABLE "workspace_invitations" RENAME TO "temporary_workspace_invitations"`);
    await queryRunner.query(`CREATE TABLE "workspace_invitations" ("id" varchar PRIMARY KEY NOT NULL, "workspace_id" varchar NOT NULL, "email" varchar(320) NOT NULL, "role" varchar CHECK( "role" IN ('owner','admin','user','viewer') ) NOT NULL, "token_hash" varchar(64) NOT NULL, "status" varchar CHECK( "status" IN ('pending','accepted','declined','revoked') ) NOT NULL DEFAULT ('pending'), "created_by" varchar NOT NULL, "created_at" datetime NOT NULL, "expires_at" datetime NOT NULL, "accepted_at" datetime, "declined_at" datetime, "revoked_at" datetime)`);
    await queryRunner.query(`INSERT INTO "workspace_invitations"("id", "workspace_id", "email", "role", "token_hash", "status", "created_by", "created_at", "expires_at", "accepted_at", "declined_at", "revoked_at") SELECT "id", "workspace_id", "email", "role", "token_hash", "status", "created_by", "created_at", "expires_at", "accepted_at", "declined_at", "revoked_at" FROM "temporary_workspace_invitations"`);
    await queryRunner.query(`DROP TABLE "temporary_workspace_invitations"`);
    await queryRunner.query(`CREATE INDEX "workspace_invitations_workspace_status_idx" ON "workspace_invitations" ("workspace_id", "status") `);
    await queryRunner.query(`CREATE INDEX "workspace_invitations_email_status_idx" ON "workspace_invitations" ("email", "status") `);
    await queryRunner.query(`CREATE INDEX "workspace_invitations_created_by_idx" ON "workspace_invitations" ("created_by") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "workspace_invitations_token_hash_key" ON "workspace_invitations" ("token_hash") `);
    await queryRunner.query(`DROP INDEX "workspace_invitations_workspace_status_idx"`);
    await queryRunner.query(`DROP INDEX "workspace_invitations_email_status_idx"`);
    await queryRunner.query(`DROP INDEX "workspace_invitations_created_by_idx"`);
    await queryRunner.query(`DROP INDEX "workspace_invitations_token_hash_key"`);
    await queryRunner.query(`DROP TABLE "workspace_invitations"`);
  }
}
