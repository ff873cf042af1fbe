import {
  assessSoloGraph,
  detectMessagingPlatform,
  SOLO_NODE_LIMIT,
  SOLO_WORKFLOW_LIMIT,
  WORKFLOW_LIMIT_MESSAGE,
  WORKFLOW_LOCKED_MESSAGE,
} from './plan-assessment';

const premium = (integration: string) =>
  `${integration} actions are available on workspace plans and above. Upgrade in Settings → Plan to run this step.`;
const SCHEDULE_MESSAGE =
  'Scheduled triggers are available on workspace plans and above. Switch this trigger to Manual or Webhook, or upgrade in Settings → Plan.';
const NOTION_TRIGGER_MESSAGE =
  'Notion triggers are available on workspace plans and above. Upgrade in Settings → Plan to use them.';

const action = (data: Record<string, unknown>, type = 'action') => ({ id: 'a', type, data });
const trigger = (triggerType: unknown, label = 'Trigger') => ({
  id: 't',
  type: 'trigger',
  data: { label, triggerType },
});
const emailNodes = (n: number) =>
  Array.from({ length: n }, (_, i) => action({ label: `Node ${i}`, actionType: 'email' }, 'actionEmail'));

describe('constants', () => {
  it('exposes the Solo limits and messages', () => {
    expect(SOLO_NODE_LIMIT).toBe(10);
    expect(SOLO_WORKFLOW_LIMIT).toBe(3);
    expect(WORKFLOW_LIMIT_MESSAGE).toBe(
      'Solo accounts can save up to 3 workflows. Delete an existing workflow or upgrade in Settings → Plan.',
    );
    expect(WORKFLOW_LOCKED_MESSAGE).toBe(
      'This workflow is locked on the solo plan. Upgrade in Settings → Plan to edit or run it.',
    );
  });
});

describe('assessSoloGraph', () => {
  it('detects_premium_integrations_and_schedule: Sheets + Slack messaging + Schedule ⇒ 3 violations in order', () => {
    const graph = {
      nodes: [
        trigger('Schedule', 'Every hour'),
        action({ label: 'Notify', actionType: 'messaging', params: { platform: 'Slack' } }),
        action({ label: 'Sheets', actionType: 'sheets' }),
      ],
    };
    expect(assessSoloGraph(graph)).toEqual([
      { code: 'premium-integration', message: premium('Slack'), nodeLabel: 'Notify' },
      { code: 'premium-integration', message: premium('Google Sheets'), nodeLabel: 'Sheets' },
      { code: 'premium-trigger', message: SCHEDULE_MESSAGE, nodeLabel: 'Every hour' },
    ]);
  });

  it('orders integrations, then schedule triggers, then Notion triggers, then node-limit', () => {
    const graph = {
      nodes: [
        trigger('notion.new_database_row', 'Notion rows'),
        trigger('schedule', 'Cron'),
        action({ label: 'Page', actionType: 'notion' }),
        action({ label: 'Ping', actionType: 'messaging', params: { service: 'Microsoft Teams' } }),
        ...emailNodes(8),
      ],
    };
    expect(assessSoloGraph(graph).map((v) => [v.code, v.nodeLabel])).toEqual([
      ['premium-integration', 'Page'],
      ['premium-integration', 'Ping'],
      ['premium-trigger', 'Cron'],
      ['premium-trigger', 'Notion rows'],
      ['node-limit', undefined],
    ]);
  });

  it('enforces_node_count_limit: 12 nodes ⇒ node-limit "Remove 2 nodes" without nodeLabel', () => {
    const violations = assessSoloGraph({ nodes: emailNodes(12) });
    expect(violations).toEqual([
      {
        code: 'node-limit',
        message: 'Solo plans support up to 10 nodes per workflow. Remove 2 nodes or upgrade in Settings → Plan.',
      },
    ]);
    expect(violations[0]).not.toHaveProperty('nodeLabel');
  });

  it('11 nodes ⇒ "Remove 1 node" (singular)', () => {
    expect(assessSoloGraph({ nodes: emailNodes(11) })).toEqual([
      {
        code: 'node-limit',
        message: 'Solo plans support up to 10 nodes per workflow. Remove 1 node or upgrade in Settings → Plan.',
      },
    ]);
  });

  it('exactly 10 nodes is allowed', () => {
    expect(assessSoloGraph({ nodes: emailNodes(10) })).toEqual([]);
  });

  it('detects_messaging_integration_from_service_and_label: Teams from params.service', () => {
    const graph = { nodes: [action({ label: 'Post', actionType: 'messaging', params: { service: 'Teams' } })] };
    expect(assessSoloGraph(graph)).toEqual([
      { code: 'premium-integration', message: premium('Microsoft Teams'), nodeLabel: 'Post' },
    ]);
  });

  it('detects_messaging_integration_from_service_and_label: Teams from the label', () => {
    const graph = { nodes: [action({ label: 'Microsoft Teams alert', actionType: 'messaging', params: {} })] };
    expect(assessSoloGraph(graph)).toEqual([
      { code: 'premium-integration', message: premium('Microsoft Teams'), nodeLabel: 'Microsoft Teams alert' },
    ]);
  });

  it.each(['slack', 'teams', 'microsoftteams', 'SLACK'])('messaging actionType %p is detected', (actionType) => {
    const [violation] = assessSoloGraph({ nodes: [action({ label: 'm', actionType })] });
    expect(violation.code).toBe('premium-integration');
    expect(violation.message).toBe(premium(actionType.toLowerCase() === 'slack' ? 'Slack' : 'Microsoft Teams'));
  });

  it('allows Google Chat', () => {
    const graph = {
      nodes: [
        action({ label: 'Chat', actionType: 'messaging', params: { platform: 'Google Chat' } }),
        action({ label: 'Chat 2', actionType: 'googlechat' }, 'actionGoogleChat'),
      ],
    };
    expect(assessSoloGraph(graph)).toEqual([]);
  });

  it('does not flag messaging with an undetectable platform', () => {
    expect(assessSoloGraph({ nodes: [action({ label: 'Notify', actionType: 'messaging' })] })).toEqual([]);
  });

  it('allows HTTP, email, code, delay, formatter and manual/webhook triggers', () => {
    const graph = {
      nodes: [
        trigger('Manual'),
        trigger('Webhook'),
        trigger(undefined),
        action({ label: 'HTTP', actionType: 'http' }, 'actionHttp'),
        action({ label: 'Mail', actionType: 'email' }, 'actionEmail'),
        action({ label: 'Code', actionType: 'code' }, 'actionCode'),
        { id: 'd', type: 'delay', data: { label: 'Wait' } },
        { id: 'f', type: 'formatter', data: { label: 'Fmt' } },
        { id: 'c', type: 'condition', data: { label: 'Slack?' } },
      ],
    };
    expect(assessSoloGraph(graph)).toEqual([]);
  });

  it('recognises UI action types (actionSheets, actionNotion, ...) case-insensitively', () => {
    const graph = {
      nodes: [
        action({ label: 'S', actionType: 'Sheets' }, 'actionSheets'),
        action({ label: 'N', actionType: 'notion' }, 'ACTIONNOTION'),
      ],
    };
    expect(assessSoloGraph(graph).map((v) => v.message)).toEqual([premium('Google Sheets'), premium('Notion')]);
  });

  it('falls back to the UI node type when data.actionType is missing (improvement over the reference)', () => {
    const graph = {
      nodes: [
        action({ label: 'S' }, 'actionSlack'),
        action({ label: 'G', actionType: '' }, 'actionSheets'),
        action({ label: 'N' }, 'actionNotion'),
        action({ label: 'T' }, 'actionTeams'),
        action({ label: 'H' }, 'actionHttp'),
        action({ label: 'C' }, 'actionGoogleChat'),
        { id: 'x', type: 'actionSlack', data: {} },
      ],
    };
    expect(assessSoloGraph(graph)).toEqual([
      { code: 'premium-integration', message: premium('Slack'), nodeLabel: 'S' },
      { code: 'premium-integration', message: premium('Google Sheets'), nodeLabel: 'G' },
      { code: 'premium-integration', message: premium('Notion'), nodeLabel: 'N' },
      { code: 'premium-integration', message: premium('Microsoft Teams'), nodeLabel: 'T' },
      { code: 'premium-integration', message: premium('Slack') },
    ]);
  });

  it('an explicit actionType wins over the UI node type', () => {
    expect(assessSoloGraph({ nodes: [action({ label: 'x', actionType: 'http' }, 'actionSlack')] })).toEqual([]);
  });

  it('flags Notion trigger types and schedule triggers case-insensitively', () => {
    const graph = {
      nodes: [
        trigger('Notion.Updated_Database_Row', 'Updated'),
        trigger('notion.new_database_row', 'New'),
        trigger('SCHEDULE', 'Cron'),
      ],
    };
    expect(assessSoloGraph(graph)).toEqual([
      { code: 'premium-trigger', message: SCHEDULE_MESSAGE, nodeLabel: 'Cron' },
      { code: 'premium-trigger', message: NOTION_TRIGGER_MESSAGE, nodeLabel: 'Updated' },
      { code: 'premium-trigger', message: NOTION_TRIGGER_MESSAGE, nodeLabel: 'New' },
    ]);
  });

  it('omits nodeLabel when the label is missing, blank or not a string, and trims it otherwise', () => {
    const graph = {
      nodes: [
        action({ actionType: 'sheets' }),
        action({ label: '   ', actionType: 'sheets' }),
        action({ label: 42, actionType: 'sheets' }),
        action({ label: '  Rows  ', actionType: 'sheets' }),
      ],
    };
    const violations = assessSoloGraph(graph);
    expect(violations.slice(0, 3).every((v) => !('nodeLabel' in v))).toBe(true);
    expect(violations[3].nodeLabel).toBe('Rows');
  });

  // Malformed graphs never get here: the graph parser (src/engine/graph.spec.ts) leaves out what is not a node.
  it('reads malformed fields of parsed nodes as absent without throwing', () => {
    const graph = {
      nodes: [
        { type: 'action', data: { actionType: ['sheets'], params: 'slack' } },
        { type: 'action', data: { params: { service: 42 } } },
        { type: 'trigger', data: { triggerType: { schedule: true } } },
        { type: 'trigger', data: {} },
      ],
    };
    expect(() => assessSoloGraph(graph)).not.toThrow();
    expect(assessSoloGraph(graph)).toEqual([]);
  });

  it('counts every node of the graph for the node limit', () => {
    expect(assessSoloGraph({ nodes: emailNodes(11) }).map((v) => v.code)).toEqual(['node-limit']);
  });
});

describe('detectMessagingPlatform', () => {
  it.each([
    [{ data: { params: { service: 'Slack' } } }, 'slack'],
    [{ data: { params: { provider: 'microsoft' } } }, 'teams'],
    [{ data: { params: { platform: 'Google Chat' } } }, 'googlechat'],
    [{ data: { params: { platform: 'google_chat' } } }, 'googlechat'],
    [{ data: { nodeType: 'googlechat' } }, 'googlechat'],
    [{ data: { actionKey: 'slack.postMessage' } }, 'slack'],
    [{ data: { actionType: 'MicrosoftTeams' } }, 'teams'],
    [{ data: { label: 'Ping the Teams channel' } }, 'teams'],
    [{ type: 'actionSlack', data: {} }, 'slack'],
    [{ type: 'actionTeams' }, 'teams'],
    [{ type: 'actionGoogleChat' }, 'googlechat'],
  ])('%j → %p', (node, expected) => {
    expect(detectMessagingPlatform(node)).toBe(expected);
  });

  it('follows the detection order service → provider → platform → nodeType → actionKey → actionType → label → type', () => {
    const node = {
      type: 'actionSlack',
      data: {
        label: 'Google Chat',
        actionType: 'teams',
        actionKey: 'slack',
        nodeType: 'googlechat',
        params: { service: 'Teams', provider: 'Slack', platform: 'Google Chat' },
      },
    };
    expect(detectMessagingPlatform(node)).toBe('teams');
    delete (node.data.params as Record<string, unknown>).service;
    expect(detectMessagingPlatform(node)).toBe('slack');
    delete (node.data.params as Record<string, unknown>).provider;
    expect(detectMessagingPlatform(node)).toBe('googlechat');
    node.data.params = {} as typeof node.data.params;
    delete (node.data as Record<string, unknown>).nodeType;
    expect(detectMessagingPlatform(node)).toBe('slack');
    delete (node.data as Record<string, unknown>).actionKey;
    expect(detectMessagingPlatform(node)).toBe('teams');
    delete (node.data as Record<string, unknown>).actionType;
    expect(detectMessagingPlatform(node)).toBe('googlechat');
    delete (node.data as Record<string, unknown>).label;
    expect(detectMessagingPlatform(node)).toBe('slack');
  });

  it('skips candidates that match nothing and keeps looking', () => {
    expect(detectMessagingPlatform({ data: { params: { service: 'webhook' }, label: 'slack alert' } })).toBe('slack');
  });

  it('prefers slack over teams within one candidate', () => {
    expect(detectMessagingPlatform({ data: { label: 'slack and teams' } })).toBe('slack');
  });

  it.each([
    ['null', null],
    ['a string', 'slack'],
    ['an array', [{ type: 'slack' }]],
    ['an empty object', {}],
    ['non-string candidates', { type: 5, data: { params: { service: ['slack'] }, label: { slack: true } } }],
    ['unrelated text', { type: 'actionHttp', data: { label: 'Chat room', params: { service: 'google' } } }],
    ['params not an object', { data: { params: 'slack' } }],
  ])('returns null for %s', (_name, node) => {
    expect(detectMessagingPlatform(node)).toBeNull();
  });
});
