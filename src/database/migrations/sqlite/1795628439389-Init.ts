import { MigrationInterface, QueryRunner } from 'typeorm';

export class Init1795628439389 implements MigrationInterface {
  name = 'Init1795628439389';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "users" ("id" varchar PRIMARY KEY NOT NULL, "email" varchar(320) NOT NULL, "password_hash" varchar(255) NOT NULL, "first_name" varchar(100) NOT NULL, "last_name" varchar(100) NOT NULL, "company_name" varchar(200), "role" varchar(20) NOT NULL DEFAULT ('user'), "plan" varchar(100) NOT NULL DEFAULT ('solo'), "settings" text NOT NULL DEFAULT ('{}'), "is_verified" boolean NOT NULL DEFAULT (0), "accepted_terms_version" varchar(50), "onboarded_at" datetime, "created_at" datetime NOT NULL DEFAULT (datetime('now')), "updated_at" datetime NOT NULL DEFAULT (datetime('now')))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "users_email_key" ON "users" ("email") `);
    await queryRunner.query(`CREATE TABLE "api_keys" ("id" varchar PRIMARY KEY NOT NULL, "user_id" varchar NOT NULL, "name" varchar(100) NOT NULL, "prefix" varchar(16) NOT NULL, "key_hash" varchar(64) NOT NULL, "expires_at" datetime, "last_used_at" datetime, "revoked_at" datetime, "created_at" datetime NOT NULL DEFAULT (datetime('now')))`);
    await queryRunner.query(`CREATE INDEX "api_keys_user_id_idx" ON "api_keys" ("user_id") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "api_keys_key_hash_key" ON "api_keys" ("key_hash") `);
    await queryRunner.query(`CREATE TABLE "user_sessions" ("token_hash" varchar(64) PRIMARY KEY NOT NULL, "user_id" varchar NOT NULL, "data" text NOT NULL, "expires_at" datetime NOT NULL, "created_at" datetime NOT NULL DEFAULT (datetime('now')))`);
    await queryRunner.query(`CREATE INDEX "user_sessions_user_id_idx" ON "user_sessions" ("user_id") `);
    await queryRunner.query(`CREATE INDEX "user_sessions_expires_at_idx" ON "user_sessions" ("expires_at") `);
    await queryRunner.query(`CREATE TABLE "workspaces" ("id" varchar PRIMARY KEY NOT NULL, "name" varchar(200) NOT NULL, "created_by" varchar NOT NULL, "owner_id" varchar NOT NULL, "plan" varchar(100) NOT NULL DEFAULT ('workspace'), "created_at" datetime NOT NULL DEFAULT (datetime('now')), "updated_at" datetime NOT NULL DEFAULT (datetime('now')), "deleted_at" datetime)`);
    await queryRunner.query(`CREATE INDEX "workspaces_owner_id_idx" ON "workspaces" ("owner_id") `);
    await queryRunner.query(`CREATE TABLE "workspace_members" ("workspace_id" varchar NOT NULL, "user_id" varchar NOT NULL, "role" varchar CHECK( "role" IN ('owner','admin','user','viewer') ) NOT NULL, "joined_at" datetime NOT NULL, PRIMARY KEY ("workspace_id", "user_id"))`);
    await queryRunner.query(`CREATE INDEX "workspace_members_user_id_idx" ON "workspace_members" ("user_id") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "workspace_members_one_owner_key" ON "workspace_members" ("workspace_id") WHERE role = 'owner'`);
    await queryRunner.query(`DROP INDEX "api_keys_user_id_idx"`);
    await queryRunner.query(`DROP INDEX "api_keys_key_hash_key"`);
    await queryRunner.query(`CREATE TABLE "temporary_api_keys" ("id" varchar PRIMARY KEY NOT NULL, "user_id" varchar NOT NULL, "name" varchar(100) NOT NULL, "prefix" varchar(16) NOT NULL, "key_hash" varchar(64) NOT NULL, "expires_at" datetime, "last_used_at" datetime, "revoked_at" datetime, "created_at" datetime NOT NULL DEFAULT (datetime('now')), CONSTRAINT "FK_a3baee01d8408cd3c0f89a9a973" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await queryRunner.query(`INSERT INTO "temporary_api_keys"("id", "user_id", "name", "prefix", "key_hash", "expires_at", "last_used_at", "revoked_at", "created_at") SELECT "id", "user_id", "name", "prefix", "key_hash", "expires_at", "last_used_at", "revoked_at", "created_at" FROM "api_keys"`);
    await queryRunner.query(`DROP TABLE "api_keys"`);
    await queryRunner.query(`ALTER TABLE "temporary_api_keys" RENAME TO "api_keys"`);
    await queryRunner.query(`CREATE INDEX "api_keys_user_id_idx" ON "api_keys" ("user_id") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "api_keys_key_hash_key" ON "api_keys" ("key_hash") `);
    await queryRunner.query(`DROP INDEX "user_sessions_user_id_idx"`);
    await queryRunner.query(`DROP INDEX "user_sessions_expires_at_idx"`);
    await queryRunner.query(`CREATE TABLE "temporary_user_sessions" ("token_hash" varchar(64) PRIMARY KEY NOT NULL, "user_id" varchar NOT NULL, "data" text NOT NULL, "expires_at" datetime NOT NULL, "created_at" datetime NOT NULL DEFAULT (datetime('now')), CONSTRAINT "FK_e9658e959c490b0a634dfc54783" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`);
    await queryRunner.query(`INSERT INTO "temporary_user_sessions"("token_hash", "user_id", "data", "expires_at", "created_at") SELECT "token_hash", "user_id", "data", "expires_at", "created_at" FROM "user_sessions"`);
    await queryRunner.query(`DROP TABLE "user_sessions"`);
    await queryRunner.query(`ALTER TABLE "temporary_user_sessions" RENAME TO "user_sessions"`);
    await queryRunner.query(`CREATE INDEX "user_sessions_user_id_idx" ON "user_sessions" ("user_id") `);
    await queryRunner.query(`CREATE INDEX "user_sessions_expires_at_idx" ON "user_sessions" ("expires_at") `);
    await queryRunner.query(`DROP INDEX "workspace_members_user_id_idx"`);
    await queryRunner.query(`DROP INDEX "workspace_members_one_owner_key"`);
    await queryRunner.query(`CREATE TABLE "temporary_workspace_members" ("workspace_id" varchar NOT NULL, "user_id" varchar NOT NULL, "role" varchar CHECK( "role" IN ('owner','admin','user','viewer') ) NOT NULL, "joined_at" datetime NOT NULL, CONSTRAINT "FK_4a7c584ddfe855379598b5e20fd" FOREIGN KEY ("workspace_id") REFERENCES "workspaces" ("id") ON DELETE CASCADE ON UPDATE NO ACTION, CONSTRAINT "FK_4e83431119fa585fc7aa8b817db" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION, PRIMARY KEY ("workspace_id", "user_id"))`);
    await queryRunner.query(`INSERT INTO "temporary_workspace_members"("workspace_id", "user_id", "role", "joined_at") SELECT "workspace_id", "user_id", "role", "joined_at" FROM "workspace_members"`);
    await queryRunner.query(`DROP TABLE "workspace_members"`);
    await queryRunner.query(`ALTER TABLE "temporary_workspace_members" RENAME TO "workspace_members"`);
    await queryRunner.query(`CREATE INDEX "workspace_members_user_id_idx" ON "workspace_members" ("user_id") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "workspace_members_one_owner_key" ON "workspace_members" ("workspace_id") WHERE role = 'owner'`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "workspace_members_one_owner_key"`);
    await queryRunner.query(`DROP INDEX "workspace_members_user_id_idx"`);
    await queryRunner.query(`ALTER TABLE "workspace_members" RENAME TO "temporary_workspace_members"`);
    await queryRunner.query(`CREATE TABLE "workspace_members" ("workspace_id" varchar NOT NULL, "user_id" varchar NOT NULL, "role" varchar CHECK( "role" IN ('owner','admin','user','viewer') ) NOT NULL, "joined_at" datetime NOT NULL, PRIMARY KEY ("workspace_id", "user_id"))`);
    await queryRunner.query(`INSERT INTO "workspace_members"("workspace_id", "user_id", "role", "joined_at") SELECT "workspace_id", "user_id", "role", "joined_at" FROM "temporary_workspace_members"`);
    await queryRunner.query(`DROP TABLE "temporary_workspace_members"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "workspace_members_one_owner_key" ON "workspace_members" ("workspace_id") WHERE role = 'owner'`);
    await queryRunner.query(`CREATE INDEX "workspace_members_user_id_idx" ON "workspace_members" ("user_id") `);
    await queryRunner.query(`DROP INDEX "user_sessions_expires_at_idx"`);
    await queryRunner.query(`DROP INDEX "user_sessions_user_id_idx"`);
    await queryRunner.query(`ALTER TABLE "user_sessions" RENAME TO "temporary_user_sessions"`);
    await queryRunner.query(`CREATE TABLE "user_sessions" ("token_hash" varchar(64) PRIMARY KEY NOT NULL, "user_id" varchar NOT NULL, "data" text NOT NULL, "expires_at" datetime NOT NULL, "created_at" datetime NOT NULL DEFAULT (datetime('now')))`);
    await queryRunner.query(`INSERT INTO "user_sessions"("token_hash", "user_id", "data", "expires_at", "created_at") SELECT "token_hash", "user_id", "data", "expires_at", "created_at" FROM "temporary_user_sessions"`);
    await queryRunner.query(`DROP TABLE "temporary_user_sessions"`);
    await queryRunner.query(`CREATE INDEX "user_sessions_expires_at_idx" ON "user_sessions" ("expires_at") `);
    await queryRunner.query(`CREATE INDEX "user_sessions_user_id_idx" ON "user_sessions" ("user_id") `);
    await queryRunner.query(`DROP INDEX "api_keys_key_hash_key"`);
    await queryRunner.query(`DROP INDEX "api_keys_user_id_idx"`);
    await queryRunner.query(`ALTER TABLE "api_keys" RENAME TO "temporary_api_keys"`);
    await queryRunner.query(`CREATE TABLE "api_keys" ("id" varchar PRIMARY KEY NOT NULL, "user_id" varchar NOT NULL, "name" varchar(100) NOT NULL, "prefix" varchar(16) NOT NULL, "key_hash" varchar(64) NOT NULL, "expires_at" datetime, "last_used_at" datetime, "revoked_at" datetime, "created_at" datetime NOT NULL DEFAULT (datetime('now')))`);
    await queryRunner.query(`INSERT INTO "api_keys"("id", "user_id", "name", "prefix", "key_hash", "expires_at", "last_used_at", "revoked_at", "created_at") SELECT "id", "user_id", "name", "prefix", "key_hash", "expires_at", "last_used_at", "revoked_at", "created_at" FROM "temporary_api_keys"`);
    await queryRunner.query(`DROP TABLE "temporary_api_keys"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "api_keys_key_hash_key" ON "api_keys" ("key_hash") `);
    await queryRunner.query(`CREATE INDEX "api_keys_user_id_idx" ON "api_keys" ("user_id") `);
    await queryRunner.query(`DROP INDEX "workspace_members_one_owner_key"`);
    await queryRunner.query(`DROP INDEX "workspace_members_user_id_idx"`);
    await queryRunner.query(`DROP TABLE "workspace_members"`);
    await queryRunner.query(`DROP INDEX "workspaces_owner_id_idx"`);
    await queryRunner.query(`DROP TABLE "workspaces"`);
    await queryRunner.query(`DROP INDEX "user_sessions_expires_at_idx"`);
    await queryRunner.query(`DROP INDEX "user_sessions_user_id_idx"`);
    await queryRunner.query(`DROP TABLE "user_sessions"`);
    await queryRunner.query(`DROP INDEX "api_keys_key_hash_key"`);
    await queryRunner.query(`DROP INDEX "api_keys_user_id_idx"`);
    await queryRunner.query(`DROP TABLE "api_keys"`);
    await queryRunner.query(`DROP INDEX "users_email_key"`);
    await queryRunner.query(`DROP TABLE "users"`);
  }
}
