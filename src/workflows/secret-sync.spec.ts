import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';
import type { AppConfig } from '../config/app-config';
import { OutboundHttp, type OutboundRequest, type OutboundResponse } from '../egress/outbound-http';
import type { IntegrationGates } from '../plans/integration-gates';
import { NodeRegistry } from '../engine/node-registry';
import type { GraphNode, NodeContext, NodeExecutor } from '../engine/node-types';
import { EmailNode } from '../engine/nodes/email.node';
import { HttpNode } from '../engine/nodes/http.node';
import { MessagingNode } from '../engine/nodes/messaging.node';
import { UnknownNodeType } from '../engine/nodes/unavailable.node';
import { hydrateParams } from '../secrets/hydration';
import {
  autoSecretName,
  formatSecretReference,
  isSecretReference,
  isSyncSection,
  parseSecretReference,
  SYNC_SECTIONS,
} from '../secrets/secret-reference';
import {
  collectGraphSecrets,
  CREDENTIAL_PARAM_NAME,
  credentialKind,
  graphReferences,
  NODE_CREDENTIALS,
  replaceGraphSecrets,
  type CredentialField,
} from './secret-sync';

type Data = Record<string, unknown>;
const node = (type: string, data: Data, id = 'n1') => ({ id, type, position: { x: 0, y: 0 }, data });
const graph = (...nodes: unknown[]) => ({ nodes, edges: [] });
const action = (actionType: string | undefined, params: Data, extra: Data = {}, type = 'action') =>
  node(type, { label: 'Node', ...(actionType === undefined ? {} : { actionType }), params, ...extra });
const collect = (...nodes: unknown[]) => collectGraphSecrets(graph(...nodes));
const one = (nodeId: string, paramKey: string, group: string, service: string, value: string) => [
  { nodeId, paramKey, group, service, value },
];

describe('collectGraphSecrets', () => {
  describe('the §9.3 table', () => {
    it.each([
      ['mailgun', 'apiKey', 'mailgun'],
      ['sendgrid', 'apiKey', 'sendgrid'],
      ['smtp', 'smtpPassword', 'smtp'],
      ['amazon ses', 'awsSecretKey', 'amazon_ses'],
      ['amazon_ses', 'awsSecretKey', 'amazon_ses'],
      ['Amazon SES', 'awsSecretKey', 'amazon_ses'],
      [' SendGrid ', 'apiKey', 'sendgrid'],
    ])('email service %p → email/%s', (service, field, expected) => {
      expect(collect(action('email', { service, [field]: 'v4lue' }))).toEqual(
        one('n1', field, 'email', expected, 'v4lue'),
      );
    });

    it('email reads only the field of its provider', () => {
      expect(collect(action('email', { service: 'smtp', apiKey: 'k', smtpPassword: '' }))).toEqual([]);
      expect(collect(action('email', { service: 'sendgrid', smtpPassword: 'p' }))).toEqual([]);
    });

    it('an unknown or missing email provider is ambiguous: every email credential present is collected', () => {
      expect(collect(action('email', { service: 'postmark', apiKey: 'k' }))).toEqual(
        one('n1', 'apiKey', 'email', 'sendgrid', 'k'),
      );
      expect(collect(action('email', { apiKey: 'k' }))).toEqual(one('n1', 'apiKey', 'email', 'sendgrid', 'k'));
      expect(collect(action('email', { service: 'smtp', awsSecretKey: 'a' }, { emailProvider: 'ses' }))).toEqual(
        one('n1', 'awsSecretKey', 'email', 'amazon_ses', 'a'),
      );
    });

    it('data.emailProvider (what the engine reads first) and params.service are both honoured', () => {
      const params = { service: 'smtp', smtpPassword: 'p', apiKey: 'k' };
      expect(collect(action('email', params, { emailProvider: 'SendGrid' }))).toEqual([
        { nodeId: 'n1', paramKey: 'apiKey', group: 'email', service: 'sendgrid', value: 'k' },
        { nodeId: 'n1', paramKey: 'smtpPassword', group: 'email', service: 'smtp', value: 'p' },
      ]);
    });

    it('email falls back to data.emailProvider when params.service is absent', () => {
      expect(collect(action('email', { smtpPassword: 'p' }, { emailProvider: 'smtp' }))).toEqual(
        one('n1', 'smtpPassword', 'email', 'smtp', 'p'),
      );
    });

    it('messaging Slack → messaging/slack token', () => {
      expect(collect(action('messaging', { platform: 'Slack', token: 'xoxb-1' }))).toEqual(
        one('n1', 'token', 'messaging', 'slack', 'xoxb-1'),
      );
    });

    it('messaging Teams with Header Secret Auth → messaging/teams workflowHeaderSecret', () => {
      const params = { platform: 'Teams', workflowOption: 'Header Secret Auth', workflowHeaderSecret: 'hs' };
      expect(collect(action('messaging', params))).toEqual(
        one('n1', 'workflowHeaderSecret', 'messaging', 'teams', 'hs'),
      );
    });

    it('messaging Teams without Header Secret Auth collects nothing', () => {
      expect(collect(action('messaging', { platform: 'Teams', workflowHeaderSecret: 'hs' }))).toEqual([]);
      expect(
        collect(action('messaging', { platform: 'Teams', workflowOption: 'Basic Auth', workflowHeaderSecret: 'hs' })),
      ).toEqual([]);
      expect(collect(action('messaging', { platform: 'Teams', token: 't' }))).toEqual([]);
    });

    it('messaging Google Chat collects nothing', () => {
      expect(collect(action('messaging', { platform: 'Google Chat', token: 't', webhookUrl: 'https://x' }))).toEqual(
        [],
      );
    });

    it.each([
      ['basic', 'authPassword', 'basic_auth'],
      ['bearer', 'authToken', 'bearer_token'],
      ['Bearer', 'authToken', 'bearer_token'],
    ])('webhook authType %p → webhook/%s', (authType, field, service) => {
      expect(collect(action('webhook', { authType, [field]: 's3cret' }))).toEqual(
        one('n1', field, 'webhook', service, 's3cret'),
      );
    });

    it.each([
      ['basic', 'password', 'basic_auth'],
      ['bearer', 'token', 'bearer_token'],
    ])('http authType %p → http/%s', (authType, field, service) => {
      expect(collect(action('http', { url: 'https://api', authType, username: 'u', [field]: 's3cret' }))).toEqual(
        one('n1', field, 'http', service, 's3cret'),
      );
    });

    it('http/webhook without a known authType collect nothing', () => {
      expect(collect(action('http', { authType: 'none', password: 'p', token: 't' }))).toEqual([]);
      expect(collect(action('http', { password: 'p', token: 't' }))).toEqual([]);
      expect(collect(action('http', { authType: 'basic', token: 't' }))).toEqual([]);
      expect(collect(action('webhook', { authType: 'digest', authPassword: 'p' }))).toEqual([]);
    });

    it('lower-cases data.actionType', () => {
      expect(collect(action('HTTP', { authType: 'bearer', token: 't' }))).toEqual(
        one('n1', 'token', 'http', 'bearer_token', 't'),
      );
    });

    it('other action kinds collect nothing', () => {
      expect(collect(action('code', { code: 'return 1', token: 't', password: 'p' }))).toEqual([]);
      expect(collect(action('sheets', { apiKey: 'k' }))).toEqual([]);
      expect(collect(action(undefined, { authType: 'bearer', token: 't' }))).toEqual([]);
    });
  });

  describe('every action node type (deviation 10 in docs/deviations.md)', () => {
    it('actionHttp with a bearer token and actionType in data', () => {
      expect(collect(action('http', { authType: 'bearer', token: 'tok' }, {}, 'actionHttp'))).toEqual(
        one('n1', 'token', 'http', 'bearer_token', 'tok'),
      );
    });

    it('actionHttp without data.actionType derives http from the type', () => {
      expect(collect(action(undefined, { authType: 'basic', password: 'pw' }, {}, 'actionHttp'))).toEqual(
        one('n1', 'password', 'http', 'basic_auth', 'pw'),
      );
    });

    it.each([
      ['actionEmailSendgrid', 'apiKey', 'sendgrid'],
      ['actionEmailMailgun', 'apiKey', 'mailgun'],
      ['actionEmailAmazonSes', 'awsSecretKey', 'amazon_ses'],
    ])('%s without params.service implies the provider', (type, field, service) => {
      expect(collect(action(undefined, { [field]: 'k' }, {}, type))).toEqual(one('n1', field, 'email', service, 'k'));
      expect(collect(action('email', { [field]: 'k' }, {}, type))).toEqual(one('n1', field, 'email', service, 'k'));
    });

    it('params.service wins over the type suffix', () => {
      expect(
        collect(action('email', { service: 'smtp', smtpPassword: 'p', apiKey: 'k' }, {}, 'actionEmailSendgrid')),
      ).toEqual(one('n1', 'smtpPassword', 'email', 'smtp', 'p'));
    });

    it('actionEmail without any provider collects every email credential present', () => {
      expect(collect(action('email', { apiKey: 'k', smtpPassword: 'p' }, {}, 'actionEmail'))).toEqual([
        { nodeId: 'n1', paramKey: 'smtpPassword', group: 'email', service: 'smtp', value: 'p' },
        { nodeId: 'n1', paramKey: 'apiKey', group: 'email', service: 'sendgrid', value: 'k' },
      ]);
    });

    it('actionSlack and actionTeams are messaging with the platform from the type', () => {
      expect(collect(action(undefined, { token: 'xoxb' }, { label: 'Notify' }, 'actionSlack'))).toEqual(
        one('n1', 'token', 'messaging', 'slack', 'xoxb'),
      );
      expect(
        collect(
          action(
            undefined,
            { workflowOption: 'Header Secret Auth', workflowHeaderSecret: 'hs' },
            { label: 'Notify' },
            'actionTeams',
          ),
        ),
      ).toEqual(one('n1', 'workflowHeaderSecret', 'messaging', 'teams', 'hs'));
      expect(collect(action(undefined, { token: 't' }, { label: 'Notify' }, 'actionGoogleChat'))).toEqual([]);
    });

    it.each([
      ['slack', 'slack'],
      ['teams', 'teams'],
      ['microsoftteams', 'teams'],
    ])('actionType %p is a messaging alias', (actionType, platform) => {
      const params = { token: 't', workflowOption: 'Header Secret Auth', workflowHeaderSecret: 'hs' };
      const [found] = collect(action(actionType, params, { label: 'Notify' }));
      expect(found.service).toBe(platform);
    });
  });

  describe('messaging platform detection', () => {
    const teamsParams = { workflowOption: 'Header Secret Auth', workflowHeaderSecret: 'hs', token: 't' };

    it.each([
      ['params.service', { service: 'slack' }, {}],
      ['params.provider', { provider: 'SLACK' }, {}],
      ['data.nodeType', {}, { nodeType: 'slackMessage' }],
      ['data.actionKey', {}, { actionKey: 'slack.post' }],
      ['data.label', {}, { label: 'Post to Slack' }],
    ])('detects Slack from %s', (_field, params, data) => {
      expect(collect(action('messaging', { token: 't', ...params }, { label: 'x', ...data }))).toEqual(
        one('n1', 'token', 'messaging', 'slack', 't'),
      );
    });

    it.each([['Microsoft Teams'], ['teams'], ['microsoft']])('detects Teams from %p', (platform) => {
      expect(collect(action('messaging', { platform, ...teamsParams }))[0]?.service).toBe('teams');
    });

    it('the first field naming a platform wins', () => {
      expect(collect(action('messaging', { platform: 'Teams', ...teamsParams }, { label: 'Slack alert' }))).toEqual(
        one('n1', 'workflowHeaderSecret', 'messaging', 'teams', 'hs'),
      );
      expect(collect(action('messaging', teamsParams, { label: 'Slack alert' }, 'actionTeams'))).toEqual(
        one('n1', 'token', 'messaging', 'slack', 't'),
      );
    });

    it('an undetectable platform collects every messaging credential present', () => {
      expect(collect(action('messaging', { token: 't' }, { label: 'Notify' }))).toEqual(
        one('n1', 'token', 'messaging', 'slack', 't'),
      );
      expect(collect(action('messaging', { workflowHeaderSecret: 'hs' }, { label: 'Notify' }))).toEqual(
        one('n1', 'workflowHeaderSecret', 'messaging', 'teams', 'hs'),
      );
    });

    it('the engine order of candidates (params.service before params.platform) decides', () => {
      expect(collect(action('messaging', { platform: 'Teams', service: 'slack', token: 't' }))).toEqual(
        one('n1', 'token', 'messaging', 'slack', 't'),
      );
    });

    it('Teams collects the header secret whenever the node sends it (the option names a header)', () => {
      for (const workflowOption of ['Header Secret Auth', 'header', 'HEADER-SECRET', 'Header secret']) {
        const params = { platform: 'Teams', workflowOption, workflowHeaderSecret: 'hs' };
        expect(collect(action('messaging', params))).toEqual(
          one('n1', 'workflowHeaderSecret', 'messaging', 'teams', 'hs'),
        );
      }
    });
  });

  it('skips non-action nodes', () => {
    const params = { authType: 'bearer', token: 't', service: 'smtp', smtpPassword: 'p' };
    for (const type of ['trigger', 'condition', 'delay', 'formatter', 'Action', 'httpAction', 'ACTION']) {
      expect(collect(node(type, { actionType: 'http', params }))).toEqual([]);
    }
  });

  it('skips values that already are references or contain a template', () => {
    expect(collect(action('http', { authType: 'bearer', token: 'http:bearer_token:auto-bearertoken-1' }))).toEqual([]);
    expect(collect(action('http', { authType: 'bearer', token: '  http:bearer_token:main  ' }))).toEqual([]);
    expect(collect(action('http', { authType: 'bearer', token: '{{Trigger.token}}' }))).toEqual([]);
    expect(collect(action('http', { authType: 'bearer', token: 'abc{{ x }}' }))).toEqual([]);
  });

  it('trims values and skips empty or non-string ones', () => {
    expect(collect(action('http', { authType: 'bearer', token: '  tok \n' }))).toEqual(
      one('n1', 'token', 'http', 'bearer_token', 'tok'),
    );
    for (const token of ['', '   ', null, 42, true, { a: 1 }, ['x']]) {
      expect(collect(action('http', { authType: 'bearer', token }))).toEqual([]);
    }
  });

  it('collects from every matching node, keeping graph order', () => {
    const found = collect(
      action('http', { authType: 'bearer', token: 'a' }, {}, 'actionHttp'),
      node('trigger', { triggerType: 'Manual' }, 't1'),
      { ...action('email', { service: 'smtp', smtpPassword: 'b' }), id: 'n2' },
      { ...action('http', { authType: 'bearer', token: 'a' }), id: 'n3' },
    );
    expect(found.map((f) => [f.nodeId, f.value])).toEqual([
      ['n1', 'a'],
      ['n2', 'b'],
      ['n3', 'a'],
    ]);
  });

  it('never throws on malformed graphs', () => {
    const hostile = {
      id: 'h',
      type: 'action',
      get data(): unknown {
        throw new Error('boom');
      },
    };
    const malformed: unknown[] = [
      undefined,
      null,
      42,
      'graph',
      [],
      {},
      { nodes: null },
      { nodes: 'x' },
      { nodes: {} },
      { nodes: [null, 1, 'x', [], {}] },
      graph({ type: 'action', data: { actionType: 'http', params: { authType: 'bearer', token: 't' } } }),
      graph({ id: 7, type: 'action', data: { actionType: 'http', params: { authType: 'bearer', token: 't' } } }),
      graph({ id: 'n', type: 7, data: {} }),
      graph({ id: 'n', type: 'action' }),
      graph({ id: 'n', type: 'action', data: null }),
      graph({ id: 'n', type: 'action', data: { actionType: 'http' } }),
      graph({ id: 'n', type: 'action', data: { actionType: 'http', params: [] } }),
      graph({ id: 'n', type: 'action', data: { actionType: 42, params: {} } }),
      graph({ id: 'n', type: 'action', data: { actionType: 'email', params: { service: ['smtp'] } } }),
      graph({ id: 'n', type: 'action', data: { actionType: 'toString', params: {} } }),
      graph({ id: 'n', type: 'action', data: { actionType: 'http', params: { authType: 'constructor' } } }),
      graph({ id: 'n', type: 'action', data: { actionType: 'email', params: { service: '__proto__' } } }),
    ];
    for (const input of malformed) expect(collectGraphSecrets(input)).toEqual([]);
    expect(
      collectGraphSecrets(graph(hostile, { ...action('http', { authType: 'bearer', token: 't' }), id: 'ok' })),
    ).toEqual(one('ok', 'token', 'http', 'bearer_token', 't'));
  });

  it('does not mutate the graph', () => {
    const input = graph(action('http', { authType: 'bearer', token: '  t  ' }));
    const before = structuredClone(input);
    collectGraphSecrets(input);
    expect(input).toEqual(before);
  });
});

describe('sync sections', () => {
  it('the store knows exactly the sections NODE_CREDENTIALS files credentials in', () => {
    const sections = Object.values(NODE_CREDENTIALS).flatMap((c) =>
      c ? Object.values(c.variants).flatMap((fields) => fields.map((f) => `${f.group}:${f.service}`)) : [],
    );
    expect([...new Set(sections)].sort()).toEqual([...SYNC_SECTIONS].sort());
  });

  it('action:<kind> is a sync section for any plain kind', () => {
    expect(isSyncSection({ group: 'action', service: 'notion', name: 'auto-notion-1' })).toBe(true);
    expect(isSyncSection({ group: 'action', service: 'Not ion', name: 'x' })).toBe(false);
    expect(isSyncSection({ group: 'custom', service: 'thing', name: 'x' })).toBe(false);
  });
});

describe('graphReferences', () => {
  it("lists the secret references in each node's params by node id, skipping what is not a node", () => {
    const refs = graphReferences({
      nodes: [
        node('action', { params: { a: 'http:bearer_token:t', nested: [{ b: 'email:smtp:main' }], c: 'plain' } }, 'n1'),
        node('action', { params: { a: 'not a ref' } }, 'n2'),
        node('action', { label: 'http:bearer_token:t' }, 'n3'),
        { id: 7, type: 'action', data: { params: { a: 'http:bearer_token:t' } } },
      ],
      edges: [],
    });
    expect(refs).toEqual(new Map([['n1', new Set(['http:bearer_token:t', 'email:smtp:main'])]]));
    expect(graphReferences(null)).toEqual(new Map());
  });
});

describe('replaceGraphSecrets', () => {
  const input = () => ({
    nodes: [
      node('trigger', { label: 'T', triggerType: 'Manual' }, 't1'),
      node('actionHttp', { actionType: 'http', params: { authType: 'bearer', token: 'tok', url: 'https://x' } }, 'h1'),
      node('action', { actionType: 'email', params: { service: 'smtp', smtpPassword: 'pw', to: 'a@b.co' } }, 'e1'),
    ],
    edges: [{ id: 'e', source: 't1', target: 'h1' }],
    extra: { when: '2025-01-01' },
  });

  it('rewrites the found params with their references', () => {
    const original = input();
    const replacements = new Map(
      collectGraphSecrets(original).map((f) => [
        `${f.nodeId}\u0000${f.paramKey}`,
        formatSecretReference({ group: f.group, service: f.service, name: 'auto-1' }),
      ]),
    );
    const out = replaceGraphSecrets(original, replacements) as ReturnType<typeof input>;
    expect(out.nodes[1].data.params).toEqual({
      authType: 'bearer',
      token: 'http:bearer_token:auto-1',
      url: 'https://x',
    });
    expect(out.nodes[2].data.params).toEqual({ service: 'smtp', smtpPassword: 'email:smtp:auto-1', to: 'a@b.co' });
    expect(collectGraphSecrets(out)).toEqual([]);
    expect(out.edges).toEqual(original.edges);
    expect(out.extra).toEqual(original.extra);
  });

  it('leaves the input untouched and shares no objects with it', () => {
    const original = input();
    const before = structuredClone(original);
    const out = replaceGraphSecrets(original, new Map([['h1\u0000token', 'http:bearer_token:x']])) as ReturnType<
      typeof input
    >;
    expect(original).toEqual(before);
    expect(out).not.toBe(original);
    expect(out.nodes).not.toBe(original.nodes);
    expect(out.nodes[1].data.params).not.toBe(original.nodes[1].data.params);
    expect(out.edges[0]).not.toBe(original.edges[0]);
    expect((out.nodes[1].data.params as Data).token).toBe('http:bearer_token:x');
  });

  it('ignores replacements for unknown nodes, missing or non-string params', () => {
    const original = input();
    const out = replaceGraphSecrets(
      original,
      new Map([
        ['zz\u0000token', 'a:b:c'],
        ['h1\u0000password', 'a:b:c'],
        ['t1\u0000label', 'a:b:c'],
        ['h1\u0000url', 'a:b:c'],
      ]),
    ) as ReturnType<typeof input>;
    expect(out.nodes[1].data.params).toEqual({ authType: 'bearer', token: 'tok', url: 'a:b:c' });
    expect(out.nodes[0].data).toEqual(original.nodes[0].data);
    expect(out.nodes[1].data.params).not.toHaveProperty('password');
  });

  it('copies malformed graphs without throwing', () => {
    const replacements = new Map([['n\u0000token', 'a:b:c']]);
    for (const value of [undefined, null, 1, 'x', [], [1, { a: 2 }], {}, { nodes: 'x' }, { nodes: [null, 1, []] }]) {
      expect(replaceGraphSecrets(value, replacements)).toEqual(value);
    }
    const withProto = JSON.parse('{"nodes":[],"__proto__":{"polluted":true}}') as object;
    const copy = replaceGraphSecrets(withProto, replacements) as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(['nodes', '__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('survives cyclic input', () => {
    const cyclic: Record<string, unknown> = { nodes: [] };
    cyclic.self = cyclic;
    const out = replaceGraphSecrets(cyclic, new Map()) as Record<string, unknown>;
    expect(out).not.toBe(cyclic);
    expect(out.self).toBe(out);
  });
});

/**
 * Sync and the engine nodes must agree on every credential param (the attack: the provider read one
 * way by sync and another by the email node left a SendGrid key in plaintext in the workflow). Every
 * expectation below is derived from NODE_CREDENTIALS and the engine's registry, never a copied list.
 */
describe('secret sync agrees with the engine nodes', () => {
  const registry = new NodeRegistry(
    { engine: {}, providers: {} } as unknown as AppConfig,
    {} as unknown as IntegrationGates,
  );
  const byAction = (registry as unknown as { byAction: Record<string, NodeExecutor> }).byAction;
  const kinds = Object.entries(NODE_CREDENTIALS);
  const declaredFields = (kind: string): CredentialField[] =>
    Object.values(NODE_CREDENTIALS[kind]?.variants ?? {}).flat();

  /** Plans a save like SecretsService.planGraphSync: returns the stored graph and the store. */
  function save(input: unknown): { stored: unknown; store: Map<string, string> } {
    const store = new Map<string, string>();
    const replacements = new Map<string, string>();
    for (const f of collectGraphSecrets(input)) {
      const taken = [...store.keys()].map((ref) => parseSecretReference(ref)!.name);
      const ref = formatSecretReference({ group: f.group, service: f.service, name: autoSecretName(f.service, taken) });
      store.set(ref, f.value);
      replacements.set(`${f.nodeId}\u0000${f.paramKey}`, ref);
    }
    return { stored: replaceGraphSecrets(input, replacements), store };
  }

  let canaryCount = 0;
  const canary = (paramKey: string) => `PLAINTEXT-${paramKey}-${++canaryCount}-do-not-store`;
  const paramsOf = (g: unknown, i = 0) => (g as { nodes: { data: { params: Data } }[] }).nodes[i].data.params;

  /**
   * Saves a node whose credential params hold canaries and checks the stored document: none of them
   * remains (serialised and searched), each param is a reference, a second save finds nothing, and
   * hydrating the stored params gives the node exactly what was typed.
   */
  function expectOnlyReferences(type: string, data: Data, fields: readonly CredentialField[]) {
    const params: Data = { ...(data.params as Data) };
    const values = fields.map((f) => (params[f.paramKey] = canary(f.paramKey)));
    const input = graph(node(type, { label: 'Step', ...data, params }));
    const { stored, store } = save(input);
    const text = JSON.stringify(stored);
    for (const value of values) expect(text).not.toContain(value);
    for (const f of fields) expect(isSecretReference(paramsOf(stored)[f.paramKey])).toBe(true);
    expect(collectGraphSecrets(stored)).toEqual([]);
    expect(hydrateParams(paramsOf(stored), store)).toEqual(params);
  }

  // ------------------------------------------------------------------------------------------------
  // Spellings of a provider / platform / auth type as users and UIs write them.

  const words = (v: string) => v.split(/[_\s-]+/).filter(Boolean);
  const title = (w: string) => w.charAt(0).toUpperCase() + w.slice(1);
  const spellings = (v: string) => [
    v,
    v.toUpperCase(),
    words(v).join(' '),
    words(v).join('-'),
    words(v).map(title).join(' '),
    words(v).map(title).join(''),
    ` ${v} `,
  ];
  const typeSuffix = (v: string) => words(v).map(title).join('');

  /** A node of each kind that the engine would run with variant `v`, in every way a graph can say so. */
  const scenarios: Record<string, (v: string) => { name: string; type: string; data: Data }[]> = {
    email: (v) => [
      ...spellings(v).flatMap((s) => [
        {
          name: `params.service ${JSON.stringify(s)}`,
          type: 'action',
          data: { actionType: 'email', params: { service: s } },
        },
        {
          name: `data.emailProvider ${JSON.stringify(s)}`,
          type: 'action',
          data: { actionType: 'email', emailProvider: s, params: {} },
        },
      ]),
      { name: 'UI type suffix', type: `actionEmail${typeSuffix(v)}`, data: { params: {} } },
      {
        name: 'UI type suffix, actionType EMAIL',
        type: `actionEmail${typeSuffix(v)}`,
        data: { actionType: ' EMAIL ', params: {} },
      },
    ],
    messaging: (v) => {
      const names: Record<string, string[]> = {
        slack: ['slack', 'Slack', 'SLACK bot'],
        teams: ['Microsoft Teams', 'teams', 'MSTeams', 'microsoft'],
        googlechat: ['Google Chat', 'googlechat', 'GOOGLE-CHAT'],
      };
      // Teams sends its header secret for any option naming a header (the UI's and older spellings).
      const options = v === 'teams' ? ['Header Secret Auth', 'Header Secret', 'header-secret-auth', 'HEADER'] : [];
      const extra = options.length > 0 ? { workflowOption: options[0] } : {};
      return names[v].flatMap((s) => [
        ...['platform', 'service', 'provider'].map((key) => ({
          name: `params.${key} ${JSON.stringify(s)}`,
          type: 'action',
          data: { actionType: 'messaging', label: 'Notify', params: { [key]: s, ...extra } },
        })),
        ...options.map((workflowOption) => ({
          name: `params.platform ${JSON.stringify(s)}, workflowOption ${JSON.stringify(workflowOption)}`,
          type: 'action',
          data: { actionType: 'messaging', label: 'Notify', params: { platform: s, workflowOption } },
        })),
        {
          name: `label ${JSON.stringify(s)}`,
          type: 'action',
          data: { actionType: 'messaging', label: `Post to ${s}`, params: extra },
        },
        {
          name: `actionType ${JSON.stringify(s)}`,
          type: 'action',
          data: { actionType: s.replace(/\W/g, ''), label: 'Notify', params: extra },
        },
        {
          name: `UI type for ${JSON.stringify(s)}`,
          type: `action${s.replace(/\W/g, '')}`,
          data: { label: 'Notify', params: extra },
        },
      ]);
    },
    http: (v) =>
      [v, v.toUpperCase(), title(v), ` ${v} `].flatMap((s) => [
        {
          name: `authType ${JSON.stringify(s)}`,
          type: 'action',
          data: { actionType: 'http', params: { url: 'https://x.test', authType: s } },
        },
        {
          name: `authType ${JSON.stringify(s)} on actionHttpRequest`,
          type: 'actionHttpRequest',
          data: { params: { authType: s } },
        },
        {
          name: `authType ${JSON.stringify(s)}, actionType HTTP`,
          type: 'actionHttp',
          data: { actionType: 'HTTP', params: { authType: s } },
        },
      ]),
    webhook: (v) =>
      [v, v.toUpperCase(), title(v)].map((s) => ({
        name: `authType ${JSON.stringify(s)}`,
        type: 'action',
        data: { actionType: 'webhook', params: { authType: s } },
      })),
  };

  /** A node of each kind whose variant the graph leaves open (or names one nobody supports). */
  const ambiguous: Record<string, { name: string; type: string; data: Data }[]> = {
    email: [
      { name: 'no provider', type: 'actionEmail', data: { actionType: 'email', params: {} } },
      { name: 'unknown provider', type: 'action', data: { actionType: 'email', params: { service: 'postmark' } } },
      { name: 'unknown UI suffix', type: 'actionEmailSes', data: { params: {} } },
      {
        name: 'unknown data.emailProvider',
        type: 'action',
        data: { actionType: 'email', emailProvider: 'x', params: { service: 'smtp' } },
      },
    ],
    messaging: [
      { name: 'no platform', type: 'action', data: { actionType: 'messaging', label: 'Notify', params: {} } },
      {
        name: 'no platform, any option',
        type: 'action',
        data: { actionType: 'messaging', params: { workflowOption: 'none' } },
      },
    ],
    http: [],
    webhook: [],
  };

  it('has a scenario builder for every kind with credentials', () => {
    const withCredentials = kinds.filter(([, credentials]) => credentials !== null).map(([kind]) => kind);
    expect(Object.keys(scenarios).sort()).toEqual([...withCredentials].sort());
    expect(Object.keys(ambiguous).sort()).toEqual([...withCredentials].sort());
  });

  describe.each(kinds.filter(([, c]) => c !== null).map(([kind]) => [kind]))('%s', (kind) => {
    const credentials = NODE_CREDENTIALS[kind]!;
    const variants = Object.entries(credentials.variants);

    describe.each(variants.map(([v, fields]) => [v, fields]))('variant %s', (v, fields) => {
      it.each(scenarios[kind](v).map((sc) => [sc.name, sc]))(
        '%s: the stored graph holds references only',
        (_name, sc) => {
          expectOnlyReferences(sc.type, sc.data, fields);
        },
      );

      if (kind === 'email') {
        it.each(variants.filter(([other]) => other !== v).map(([other, otherFields]) => [other, otherFields]))(
          'disagreeing providers (emailProvider %s vs params.service, the UI type): no credential of either stays',
          (other, otherFields) => {
            const both = [...fields, ...otherFields.filter((f) => !fields.some((g) => g.paramKey === f.paramKey))];
            for (const [emailProvider, service] of [
              [v, other],
              [other, v],
              [words(v).map(title).join(' '), words(other).join('-').toUpperCase()],
            ]) {
              expectOnlyReferences(
                `actionEmail${typeSuffix(other)}`,
                { actionType: 'email', emailProvider, params: { service } },
                both,
              );
            }
          },
        );
      }
    });

    // http/webhook: the node's rule is total (anything but basic/bearer is no auth), nothing is ambiguous.
    if (ambiguous[kind].length > 0) {
      it.each(ambiguous[kind].map((sc) => [sc.name, sc]))(
        'ambiguous (%s): every credential field of the kind is collected',
        (_name, sc) => {
          expectOnlyReferences(sc.type, sc.data, declaredFields(kind));
        },
      );
    }
  });

  it('an action kind nobody declared (npm run g:node) has every credential-looking param collected', () => {
    const params = { text: 'hello', apiKey: 'k1', clientSecret: 'k2', accessToken: 'k3', password: 'k4' };
    const { stored } = save(graph(action('slackReaction', params)));
    expect(JSON.stringify(stored)).not.toMatch(/"k\d"/);
    expect(paramsOf(stored)).toMatchObject({ text: 'hello', apiKey: 'action:slackreaction:auto-slackreaction-1' });
  });

  // ------------------------------------------------------------------------------------------------
  // The table against the engine itself.

  it('every action kind the registry runs is declared in NODE_CREDENTIALS and routed to the same executor', () => {
    expect(Object.keys(byAction).length).toBeGreaterThan(0);
    for (const actionType of Object.keys(byAction)) {
      const kind = credentialKind(node('action', { actionType }));
      expect([actionType, Object.prototype.hasOwnProperty.call(NODE_CREDENTIALS, kind)]).toEqual([actionType, true]);
      const asKind = registry.resolve(node('action', { actionType: kind }) as GraphNode);
      expect(asKind).toBe(byAction[actionType]);
    }
  });

  it('UI node types and actionType spellings resolve to the kind the registry runs them as', () => {
    const types = [
      'action',
      ...Object.keys(byAction).flatMap((k) => [`action${k}`, `action${title(k)}`, `action${k.toUpperCase()}Step`]),
      ...[
        'EmailSendgrid',
        'EMAILsmtp',
        'HttpRequest',
        'SlackMessage',
        'TeamsWorkflow',
        'GoogleChat',
        'MicrosoftTeams',
      ].map((t) => `action${t}`),
    ];
    const actionTypes = [
      undefined,
      '',
      '  ',
      ...Object.keys(byAction).flatMap((k) => [k, k.toUpperCase(), ` ${title(k)} `]),
    ];
    let checked = 0;
    for (const type of types) {
      for (const actionType of actionTypes) {
        const n = node(type, actionType === undefined ? {} : { actionType }) as GraphNode;
        const executor = registry.resolve(n);
        if (executor instanceof UnknownNodeType) continue;
        const asKind = registry.resolve(node('action', { actionType: credentialKind(n) }) as GraphNode);
        expect([type, actionType, asKind === executor]).toEqual([type, actionType, true]);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  /** Param names a node's source reads: `params.x`, `params['x']`, `f(params, 'x')`, `{ x } = params`. */
  function paramReads(file: string): Set<string> {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const reads = new Set<string>();
    const isParams = (e: ts.Node) => ts.isIdentifier(e) && e.text === 'params';
    const visit = (n: ts.Node): void => {
      if (ts.isPropertyAccessExpression(n) && isParams(n.expression)) reads.add(n.name.text);
      if (ts.isElementAccessExpression(n) && isParams(n.expression) && ts.isStringLiteralLike(n.argumentExpression)) {
        reads.add(n.argumentExpression.text);
      }
      if (ts.isCallExpression(n) && n.arguments.some(isParams)) {
        for (const arg of n.arguments) if (ts.isStringLiteralLike(arg)) reads.add(arg.text);
      }
      if (
        ts.isVariableDeclaration(n) &&
        n.initializer &&
        isParams(n.initializer) &&
        ts.isObjectBindingPattern(n.name)
      ) {
        for (const el of n.name.elements) reads.add((el.propertyName ?? el.name).getText(source));
      }
      ts.forEachChild(n, visit);
    };
    visit(source);
    return reads;
  }

  /** The source file of each executor class under src/engine/nodes. */
  const nodesDir = join(__dirname, '..', 'engine', 'nodes');
  const classFiles = new Map<string, string>();
  for (const name of readdirSync(nodesDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))) {
    const file = join(nodesDir, name);
    for (const match of readFileSync(file, 'utf8').matchAll(/\bclass (\w+)/g)) classFiles.set(match[1], file);
  }

  /** A node file and, when the node is split (`email.node.ts` + `email/`), the files of its folder. */
  function nodeSources(file: string): string[] {
    const dir = file.replace(/\.node\.ts$/, '');
    if (!existsSync(dir)) return [file];
    const parts = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'));
    return [file, ...parts.map((f) => join(dir, f))];
  }

  it('every credential-looking param a registered node reads is declared for its kind, and every declared one is read', () => {
    let credentialReads = 0;
    for (const [actionType, executor] of Object.entries(byAction)) {
      const kind = credentialKind(node('action', { actionType }));
      const file = classFiles.get(executor.constructor.name);
      expect([actionType, file !== undefined]).toEqual([actionType, true]);
      const reads = new Set(nodeSources(file!).flatMap((source) => [...paramReads(source)]));
      const declared = declaredFields(kind);
      const undeclared = [...reads].filter(
        (key) => CREDENTIAL_PARAM_NAME.test(key) && !declared.some((f) => f.paramKey === key),
      );
      expect([actionType, undeclared]).toEqual([actionType, []]);
      const unread = declared.filter((f) => !f.notReadByEngine && !reads.has(f.paramKey)).map((f) => f.paramKey);
      expect([actionType, unread]).toEqual([actionType, []]);
      credentialReads += [...reads].filter((key) => CREDENTIAL_PARAM_NAME.test(key)).length;
    }
    expect(credentialReads).toBeGreaterThanOrEqual(5);
  });

  // ------------------------------------------------------------------------------------------------
  // The real nodes on the wire: each declared field is what the node authenticates with, for its
  // variant, and a saved-then-hydrated graph sends exactly what the typed one did.

  class CapturingHttp extends OutboundHttp {
    readonly requests: OutboundRequest[] = [];
    async request(req: OutboundRequest): Promise<OutboundResponse> {
      this.requests.push(req);
      return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from('{}'), url: req.url };
    }
  }

  const executors: Record<string, NodeExecutor> = {
    email: new EmailNode({
      sendgridBaseUrl: 'https://sendgrid.test',
      mailgunBaseUrl: 'https://mailgun.test',
      mailgunEuBaseUrl: 'https://eu.mailgun.test',
      sesEndpoint: (region) => `https://email.${region}.amazonaws.test`,
    }),
    http: new HttpNode(),
    messaging: new MessagingNode({ gate: async () => undefined, connections: null }),
  };

  /** What each variant needs besides its credentials to send (the credentials come from the table). */
  const mail = { from: 'Ops <ops@example.com>', to: 'ada@example.com', subject: 'Hi', body: 'Body' };
  const sendable: Record<string, Data | string> = {
    'email/smtp': 'SMTP goes through nodemailer, not ctx.http; its smtpPassword read is checked in the source above',
    'email/sendgrid': { service: 'sendgrid', ...mail },
    'email/mailgun': { service: 'mailgun', domain: 'mg.example.com', ...mail },
    'email/amazon_ses': { service: 'amazon_ses', awsAccessKey: 'AKIDEXAMPLE', awsRegion: 'us-east-1', ...mail },
    'messaging/slack': 'the engine does not read the Slack token (notReadByEngine)',
    'messaging/teams': {
      platform: 'Teams',
      deliveryMethod: 'webhook',
      webhookUrl: 'https://teams.example.com/hook',
      workflowOption: 'Header Secret Auth',
      workflowHeaderName: 'X-Flow-Secret',
      message: 'Hi',
    },
    'http/basic': { url: 'https://api.example.com/x', authType: 'basic', username: 'ada' },
    'http/bearer': { url: 'https://api.example.com/x', authType: 'bearer' },
    'webhook/basic': 'no engine node runs the webhook action (notReadByEngine)',
    'webhook/bearer': 'no engine node runs the webhook action (notReadByEngine)',
  };
  const wireCases = kinds.flatMap(([kind, credentials]) =>
    Object.entries(credentials?.variants ?? {})
      .filter(([, fields]) => fields.length > 0)
      .map(([v, fields]) => [`${kind}/${v}`, kind, fields] as const),
  );

  it('has a sendable fixture (or a stated reason) for every variant with credentials', () => {
    expect(Object.keys(sendable).sort()).toEqual(wireCases.map(([name]) => name).sort());
  });

  async function wire(kind: string, params: Data, store?: Map<string, string>, extra: Data = {}): Promise<string> {
    const http = new CapturingHttp();
    const n = { id: 'n1', type: 'action', data: { actionType: kind, label: 'Step', ...extra, params } };
    const ctx: NodeContext = {
      context: {},
      run: { runId: 'r', workflowId: 'w', ownerId: 'u', workspaceId: null },
      signal: new AbortController().signal,
      http,
      now: () => new Date('2025-01-02T03:04:05Z'),
    };
    const run = store ? { ...n, data: { ...n.data, params: hydrateParams(params, store) as Data } } : n;
    await executors[kind].execute(run, ctx);
    return JSON.stringify(http.requests.map(({ method, url, headers, body }) => ({ method, url, headers, body })));
  }

  it.each(wireCases.filter(([name]) => typeof sendable[name] !== 'string'))(
    '%s: the node authenticates with the declared fields, and a saved graph sends the same request',
    async (name, kind, fields) => {
      const base = sendable[name] as Data;
      const typed: Data = { ...base };
      for (const f of fields) typed[f.paramKey] = canary(f.paramKey);
      const sent = await wire(kind, typed);

      // The node depends on every declared field: changing one changes what it sends.
      for (const f of fields) expect(await wire(kind, { ...typed, [f.paramKey]: canary(f.paramKey) })).not.toBe(sent);

      const { stored, store } = save(graph(node('action', { actionType: kind, label: 'Step', params: typed })));
      for (const f of fields) expect(JSON.stringify(stored)).not.toContain(typed[f.paramKey]);
      expect(await wire(kind, paramsOf(stored), store)).toBe(sent);
    },
  );

  it('the reported attack: params.service and data.emailProvider disagree, the SendGrid key is never stored', async () => {
    const key = 'SG.live-key-from-the-report';
    const params = { service: 'smtp', smtpPassword: 'hunter2', apiKey: key, ...mail };
    const { stored, store } = save(graph(node('action', { actionType: 'email', emailProvider: 'SendGrid', params })));
    expect(JSON.stringify(stored)).not.toContain(key);
    expect(JSON.stringify(stored)).not.toContain('hunter2');
    // Unhydrated, the node would send the reference; hydrated (at run time) it sends the key.
    const storedParams = paramsOf(stored);
    const unhydrated = await wire('email', storedParams, undefined, { emailProvider: 'SendGrid' });
    expect(unhydrated).toContain('Bearer email:sendgrid:auto-sendgrid-1');
    expect(unhydrated).not.toContain(key);
    expect(await wire('email', storedParams, store, { emailProvider: 'SendGrid' })).toContain(`Bearer ${key}`);
  });
});
