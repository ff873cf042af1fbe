import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseEnv } from 'node:util';

/**
 * Loads `.env` from the working directory when there is one. A variable already set in the real
 * environment wins over the file, so a process manager or a one-off `PORT=4000 npm start` overrides
 * it. Returns the file it read, or null. Only `main.ts` calls this: the config itself reads the
 * environment it is given (tests pass theirs).
 */
export function loadDotEnv(
  dir: string = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): { file: string; applied: string[] } | null {
  const file = path.join(dir, '.env');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const applied: string[] = [];
  for (const [name, value] of Object.entries(parseEnv(text))) {
    if (env[name] !== undefined) continue;
    env[name] = value;
    applied.push(name);
  }
  return { file, applied };
}

/**
 * The one line printed when the HTTP port cannot be opened (no stack trace), or null for other
 * errors, which keep their stack.
 */
export function listenProblem(error: unknown, host: string, port: number): string | null {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') {
    return `Port ${port} on ${host} is already in use: stop the process using it, or set PORT to a free port.`;
  }
  if (code === 'EACCES') {
    return `No permission to listen on port ${port} on ${host}: choose a port above 1023 with PORT.`;
  }
  if (code === 'EADDRNOTAVAIL') {
    return `HOST ${host} is not an address of this machine: set HOST to one (0.0.0.0 listens on all).`;
  }
  return null;
}
