/**
 * `users.settings.workflows.runaway_protection_enabled` (docs/contract.md §8.7): a boolean applies to every
 * workspace; an object maps workspace ids to booleans with an optional `default`. Missing → enabled.
 */
export function runawayProtectionEnabled(
  settings: Record<string, unknown> | null | undefined,
  workspaceId: string | null,
): boolean {
  const value = (settings?.workflows as Record<string, unknown> | undefined)?.runaway_protection_enabled;
  if (typeof value === 'boolean') return value;
  if (value && typeof value === 'object') {
    const map = value as Record<string, unknown>;
    if (workspaceId && typeof map[workspaceId] === 'boolean') return map[workspaceId] as boolean;
    if (typeof map.default === 'boolean') return map.default;
  }
  return true;
}

/** The settings with one workspace's toggle set; a global boolean becomes `{default: old, <ws>: new}`. */
export function withRunawayProtection(
  settings: Record<string, unknown> | null | undefined,
  workspaceId: string,
  enabled: boolean,
): Record<string, unknown> {
  const base = { ...(settings ?? {}) };
  const workflows = { ...((base.workflows as Record<string, unknown> | undefined) ?? {}) };
  const current = workflows.runaway_protection_enabled;
  const map: Record<string, unknown> =
    typeof current === 'boolean'
      ? { default: current }
      : current && typeof current === 'object'
        ? { ...(current as object) }
        : {};
  map[workspaceId] = enabled;
  workflows.runaway_protection_enabled = map;
  base.workflows = workflows;
  return base;
}
