import { MigrationInterface, QueryRunner } from 'typeorm';

export class SharedSecrets1796299595004 implements MigrationInterface {
  name = 'SharedSecrets1796299595004';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "temporary_user_secrets" ("user_id" varchar NOT NULL, "group_key" varchar(100) NOT NULL, "service_key" varchar(100) NOT NULL, "name" varchar(200) NOT NULL, "ciphertext" text NOT NULL, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL, "workspace_id" varchar, CONSTRAINT "FK_c584286beb5ef2c823312479b4f" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION, PRIMARY KEY ("user_id", "group_key", "service_key", "name"))`);
    await queryRunner.query(`INSERT INTO "temporary_user_secrets"("user_id", "group_key", "service_key", "name", "ciphertext", "created_at", "updated_at") SELECT "user_id", "group_key", "service_key", "name", "ciphertext", "created_at", "updated_at" FROM "user_secrets"`);
    await queryRunner.query(`DROP TABLE "user_secrets"`);
    await queryRunner.query(`ALTER TABLE "temporary_user_secrets" RENAME TO "user_secrets"`);
    await queryRunner.query(`CREATE INDEX "user_secrets_workspace_id_idx" ON "user_secrets" ("workspace_id") `);
    await queryRunner.query(`DROP INDEX "user_secrets_workspace_id_idx"`);
    await queryRunner.query(`CREATE TABLE "temporary_user_secrets" ("user_id" varchar NOT NULL, "group_key" varchar(100) NOT NULL, "service_key" varchar(100) NOT NULL, "name" varchar(200) NOT NULL, "ciphertext" text NOT NULL, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL, "workspace_id" varchar, CONSTRAINT "FK_c584286beb5ef2c823312479b4f" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION, CONSTRAINT "FK_fe0c454f9cef9a4c56ccc0d3f05" FOREIGN KEY ("workspace_id") REFERENCES "workspaces" ("id") ON DELETE SET NULL ON UPDATE NO ACTION, PRIMARY KEY ("user_id", "group_key", "service_key", "name"))`);
    await queryRunner.query(`INSERT INTO "temporary_user_secrets"("user_id", "group_key", "service_key", "name", "ciphertext", "created_at", "updated_at", "workspace_id") SELECT "user_id", "group_key", "service_key", "name", "ciphertext", "created_at", "updated_at", "workspace_id" FROM "user_secrets"`);
    await queryRunner.query(`DROP TABLE "user_secrets"`);
    await queryRunner.query(`ALTER TABLE "temporary_user_secrets" RENAME TO "user_secrets"`);
    await queryRunner.query(`CREATE INDEX "user_secrets_workspace_id_idx" ON "user_secrets" ("workspace_id") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "user_secrets_workspace_id_idx"`);
    await queryRunner.query(`ALTER TABLE "user_secrets" RENAME TO "temporary_user_secrets"`);
    await queryRunner.query(`CREATE TABLE "user_secrets" ("user_id" varchar NOT NULL, "group_key" varchar(100) NOT NULL, "service_key" varchar(100) NOT NULL, "name" varchar(200) NOT NULL, "ciphertext" text NOT NULL, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL, "workspace_id" varchar, CONSTRAINT "FK_c584286beb5ef2c823312479b4f" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION, PRIMARY KEY ("user_id", "group_key", "service_key", "name"))`);
    await queryRunner.query(`INSERT INTO "user_secrets"("user_id", "group_key", "service_key", "name", "ciphertext", "created_at", "updated_at", "workspace_id") SELECT "user_id", "group_key", "service_key", "name", "ciphertext", "created_at", "updated_at", "workspace_id" FROM "temporary_user_secrets"`);
    await queryRunner.query(`DROP TABLE "temporary_user_secrets"`);
    await queryRunner.query(`CREATE INDEX "user_secrets_workspace_id_idx" ON "user_secrets" ("workspace_id") `);
    await queryRunner.query(`DROP INDEX "user_secrets_workspace_id_idx"`);
    await queryRunner.query(`ALTER TABLE "user_secrets" RENAME TO "temporary_user_secrets"`);
    await queryRunner.query(`CREATE TABLE "user_secrets" ("user_id" varchar NOT NULL, "group_key" varchar(100) NOT NULL, "service_key" varchar(100) NOT NULL, "name" varchar(200) NOT NULL, "ciphertext" text NOT NULL, "created_at" datetime NOT NULL, "updated_at" datetime NOT NULL, CONSTRAINT "FK_c584286beb5ef2c823312479b4f" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION, PRIMARY KEY ("user_id", "group_key", "service_key", "name"))`);
    await queryRunner.query(`INSERT INTO "user_secrets"("user_id", "group_key", "service_key", "name", "ciphertext", "created_at", "updated_at") SELECT "user_id", "group_key", "service_key", "name", "ciphertext", "created_at", "updated_at" FROM "temporary_user_secrets"`);
    await queryRunner.query(`DROP TABLE "temporary_user_secrets"`);
  }
}
