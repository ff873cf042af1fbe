import {
  autoSecretName,
  collectGraphSecrets,
  formatSecretReference,
  isSecretReference,
  parseSecretReference,
  replaceGraphSecrets,
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
      expect(collect(action('email', { service: 'postmark', apiKey: 'k' }))).toEqual([]);
      expect(collect(action('email', { apiKey: 'k' }))).toEqual([]);
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

  describe('every action node type (SPEC §9 item 10)', () => {
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

    it('actionEmail without any provider collects nothing', () => {
      expect(collect(action('email', { apiKey: 'k', smtpPassword: 'p' }, {}, 'actionEmail'))).toEqual([]);
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

    it('an undetectable platform collects nothing', () => {
      expect(collect(action('messaging', { token: 't' }, { label: 'Notify' }))).toEqual([]);
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

describe('secret references', () => {
  it.each([
    ['email:smtp:main'],
    ['http:bearer_token:auto-bearertoken-1'],
    ['group:service:name with spaces'],
    ['g:s:n'],
  ])('%p is a reference', (value) => {
    expect(isSecretReference(value)).toBe(true);
  });

  it.each([
    ['email:smtp'],
    ['email:smtp:main:extra'],
    ['email::main'],
    [':smtp:main'],
    ['email:smtp:'],
    ['email:smtp:   '],
    ['em ail:smtp:main'],
    ['email:sm\ttp:main'],
    [' email:smtp:main'],
    ['email:smtp:main '],
    ['email :smtp:main'],
    ['email:smtp: main'],
    ['plain'],
    [''],
  ])('%p is not a reference', (value) => {
    expect(isSecretReference(value)).toBe(false);
    expect(parseSecretReference(value)).toBeNull();
  });

  it.each([[null], [undefined], [42], [{}], [['a:b:c']]])('%p (not a string) is not a reference', (value) => {
    expect(isSecretReference(value)).toBe(false);
  });

  it('parses and formats round trip', () => {
    const ref = parseSecretReference('messaging:slack:auto-slack-2');
    expect(ref).toEqual({ group: 'messaging', service: 'slack', name: 'auto-slack-2' });
    expect(formatSecretReference(ref!)).toBe('messaging:slack:auto-slack-2');
    expect(formatSecretReference({ group: 'email', service: 'amazon_ses', name: 'n' })).toBe('email:amazon_ses:n');
  });
});

describe('autoSecretName', () => {
  it('starts at 1', () => {
    expect(autoSecretName('sendgrid', [])).toBe('auto-sendgrid-1');
  });

  it('takes the smallest free n', () => {
    expect(autoSecretName('sendgrid', ['auto-sendgrid-1', 'auto-sendgrid-3'])).toBe('auto-sendgrid-2');
    expect(autoSecretName('sendgrid', new Set(['auto-sendgrid-1', 'auto-sendgrid-2']))).toBe('auto-sendgrid-3');
    expect(autoSecretName('sendgrid', ['auto-sendgrid-2', 'main', 'auto-mailgun-1'])).toBe('auto-sendgrid-1');
  });

  it('removes non-alphanumerics and lower-cases the service', () => {
    expect(autoSecretName('amazon_ses', ['auto-amazonses-1'])).toBe('auto-amazonses-2');
    expect(autoSecretName('Bearer_Token', [])).toBe('auto-bearertoken-1');
    expect(autoSecretName('basic-auth!', [])).toBe('auto-basicauth-1');
  });

  it('accepts any iterable, consumed once', () => {
    function* names() {
      yield 'auto-smtp-1';
      yield 'auto-smtp-2';
    }
    expect(autoSecretName('smtp', names())).toBe('auto-smtp-3');
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
