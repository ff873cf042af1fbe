// TypeORM CLI data source (`npm run typeorm -- migration:show`): the app's configuration, migrations
// not auto-run. SQLite under DATA_DIR unless DATABASE_URL points at PostgreSQL.
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from './src/config/app-config';
import { dataSourceOptions } from './src/database/data-source-options';

export default new DataSource(dataSourceOptions(loadConfig().database, { migrationsRun: false }));
