export type PlanTier = 'solo' | 'workspace';

/** PLAN_LIMITS: the hosted plan model, or none (a private install). */
export type PlanLimits = 'saas' | 'off';

/**
 * The plan a response shows for a stored plan: with plan limits off every account has the
 * workspace plan, and the web client must not offer upgrades or hide features for it.
 */
export function shownPlan(stored: string, limits: PlanLimits): string {
  return limits === 'off' ? 'workspace' : stored;
}

const WORKSPACE_WORDS = new Set(['workspace', 'team', 'organization', 'organisation', 'org', 'enterprise']);
const SOLO_WORDS = new Set(['solo', 'free', 'personal', 'individual']);

/**
 * docs/contract.md §8.2: trim + lower-case; empty → solo; the first segment before `: - _ space / .`
 * decides; otherwise a workspace hint anywhere in the string; else solo.
 */
export function normalizePlan(plan: string | null | undefined): PlanTier {
  const value = (plan ?? '').trim().toLowerCase();
  if (!value) return 'solo';
  const first = value.split(/[:\-_ /.]/)[0];
  if (WORKSPACE_WORDS.has(first)) return 'workspace';
  if (SOLO_WORDS.has(first)) return 'solo';
  return ['workspace', 'organization', 'organisation', 'org:', 'org_'].some((hint) => value.includes(hint))
    ? 'workspace'
    : 'solo';
}
