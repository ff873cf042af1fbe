/**
 * The operator CLI's own settings (src/cli): it is a client of a running server, not the server,
 * so it reads two variables of its own instead of the validated AppConfig.
 */
export function cliEnvironment(): { url: string | undefined; token: string | undefined } {
  return { url: process.env.RUNLOOM_URL || undefined, token: process.env.RUNLOOM_TOKEN || undefined };
}
