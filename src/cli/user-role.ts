import { DataSource } from 'typeorm';
import { AppConfig, ConfigValidationError, loadConfig } from '../config/app-config';
import { dataSourceOptions } from '../database/data-source-options';
import { Db } from '../database/db.service';
import type { UserRole } from '../database/entities/user.entity';
import { UserRepository } from '../database/repositories/user.repository';

/**
 * `runloom user role`: sets an account's application role on the server's own database, with the
 * server's configuration (DATABASE_URL, or the SQLite file under DATA_DIR). It is the one CLI
 * command that does not go through the API: the first admin cannot be made by asking an admin.
 * `changed` is false when no account has the e-mail; `problem` names what is wrong with the configuration.
 */
export async function setUserRole(email: string, role: UserRole): Promise<{ changed: boolean } | { problem: string }> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigValidationError) return { problem: error.message };
    throw error;
  }
  // A running server may hold SQLite's write lock for a moment: wait for it like any writer.
  const lockWait = config.database.type === 'sqlite' ? { timeout: 5_000 } : {};
  const dataSource = new DataSource({ ...dataSourceOptions(config.database, { migrationsRun: false }), ...lockWait });
  await dataSource.initialize();
  try {
    return { changed: await new UserRepository(new Db(dataSource, config)).setRole(email, role) };
  } finally {
    await dataSource.destroy();
  }
}
