import { loadDotEnv } from './startup';

/**
 * Imported first by `main.ts`, before any module that reads the environment while it loads (the
 * entities pick their column types from DATABASE_URL), so `.env` counts for all of them.
 */
export const dotEnv = loadDotEnv();
