/** The OAuth-connected apps the web client knows (Integrations tab and node panels). */
export const OAUTH_PROVIDERS = ['google', 'microsoft', 'slack', 'asana', 'notion'] as const;
export type OAuthProvider = (typeof OAUTH_PROVIDERS)[number];

export const PROVIDER_LABELS: Record<OAuthProvider, string> = {
  google: 'Google',
  microsoft: 'Microsoft',
  slack: 'Slack',
  asana: 'Asana',
  notion: 'Notion',
};

/**
 * This server has no OAuth client for any of them: connecting cannot succeed, so nobody has a
 * connection, and every call that needs one is refused with this message.
 */
export function notConfiguredMessage(provider: OAuthProvider): string {
  return `${PROVIDER_LABELS[provider]} integration is not configured on this server.`;
}
