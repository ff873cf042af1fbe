import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UndiciOutboundHttp } from '../../egress/undici-outbound-http';
import { NodeError, type NodeContext, type RunInfo } from '../node-types';
import {
  MessagingNode,
  type ConnectionProvider,
  type MessagingNodeDeps,
  type SlackMessageArgs,
  type TeamsMessageArgs,
} from './messaging.node';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const context = { Hook: { name: 'Ada', quote: 'say "hi"', order: { id: 42 } } };
const runInfo: RunInfo = { runId: 'run-1', workflowId: 'wf-1', ownerId: 'user-1', workspaceId: 'ws-1' };

const failure = async (promise: Promise<unknown>): Promise<Error> => {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  return err as Error;
};

/** A stand-in for the OAuth-connection subsystem (a third-party SaaS behind it). */
class FakeConnections implements ConnectionProvider {
  readonly slack: SlackMessageArgs[] = [];
  readonly teams: TeamsMessageArgs[] = [];
  async postSlackMessage(args: SlackMessageArgs): Promise<Record<string, unknown>> {
    this.slack.push(args);
    return {
      messageTs: '1700000000.000100',
      channelId: 'C123',
      connectionScope: args.connectionScope,
      connectionId: args.connectionId,
      sent: false,
    };
  }
  async postTeamsMessage(args: TeamsMessageArgs): Promise<Record<string, unknown>> {
    this.teams.push(args);
    return { messageId: 'teams-msg-1' };
  }
}

describe('MessagingNode (docs/contract.md §5.6 messaging)', () => {
  const seen: Seen[] = [];
  let status = 200;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      res.writeHead(status, { 'Content-Type': 'text/plain' }).end(status < 300 ? 'ok' : 'invalid_payload');
    });
  });
  let base: string;
  let closedPort: number;
  let chatUrl: string;
  let slackUrl: string;
  let teamsUrl: string;
  const http = new UndiciOutboundHttp({ maxResponseBytes: 1e6 });
  let gate: jest.Mock<Promise<void>, [RunInfo, 'slack' | 'teams']>;

  const listen = (s: ReturnType<typeof createServer>) =>
    new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));

  beforeAll(async () => {
    base = `http://127.0.0.1:${await listen(server)}`;
    chatUrl = `${base}/v1/spaces/AAAA/messages?key=CHATKEY-SECRET&token=CHATTOKEN-SECRET`;
    slackUrl = `${base}/services/T000/B000/SLACKHOOK-SECRET`;
    teamsUrl = `${base}/webhookb2/TEAMSHOOK-SECRET`;
    const probe = createServer();
    closedPort = await listen(probe);
    await new Promise((resolve) => probe.close(resolve));
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    seen.length = 0;
    status = 200;
    gate = jest.fn<Promise<void>, [RunInfo, 'slack' | 'teams']>(async () => undefined);
  });

  function nodeContext(): NodeContext {
    return { context, run: runInfo, signal: new AbortController().signal, http, now: () => new Date() };
  }

  const run = (
    platform: string,
    params: Record<string, unknown>,
    deps: Partial<MessagingNodeDeps> = {},
    data: Record<string, unknown> = {},
  ) =>
    new MessagingNode({ gate, connections: null, ...deps }).execute(
      {
        id: 'msg-1',
        type: 'action',
        data: { actionType: 'messaging', label: 'Notify', params: { platform, ...params }, ...data },
      },
      nodeContext(),
    );

  const expectNoSecrets = (err: Error) => {
    for (const secret of ['CHATKEY', 'CHATTOKEN', 'SLACKHOOK', 'TEAMSHOOK', 'HEADER-SECRET']) {
      expect(err.message).not.toContain(secret);
    }
  };

  describe('platform', () => {
    it('fails clearly when the platform cannot be determined, before the gate', async () => {
      const err = await failure(run('Discord', { webhookUrl: slackUrl, message: 'x' }));
      expect(err).toBeInstanceOf(NodeError);
      expect(err.message).toBe('Could not determine the messaging platform');
      expect(gate).not.toHaveBeenCalled();
      expect(seen).toHaveLength(0);
    });

    it('detects the platform from the node type as well', async () => {
      const result = await new MessagingNode({ gate, connections: null }).execute(
        { id: 'm', type: 'actionGoogleChat', data: { params: { webhookUrl: chatUrl, message: 'hi' } } },
        nodeContext(),
      );
      expect(result.outputs).toMatchObject({ service: 'Google Chat' });
    });
  });

  describe('params validation', () => {
    it('refuses params of the wrong type before the gate, naming the field and never its value', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ webhookUrl: { url: slackUrl } }, 'webhookUrl'],
        [{ message: 42 }, 'message'],
        [{ cardJson: { cards: [] } }, 'cardJson'],
        [{ postAsUser: 'SLACKHOOK-maybe' }, 'postAsUser'],
        [{ connection: 'SLACKHOOK-c-1' }, 'connection'],
        [{ connection: ['c-1'] }, 'connection.0'],
        [{ connection: { connectionScope: 'user', connectionId: 7 } }, 'connection.connectionId'],
        [{ workflowHeaderSecret: 12345 }, 'workflowHeaderSecret'],
        [{ service: ['Slack'] }, 'service'],
      ];
      for (const [params, field] of cases) {
        const err = await failure(run('Slack', { webhookUrl: slackUrl, message: 'x', ...params }));
        expect(err).toBeInstanceOf(NodeError);
        expect([field, err.message]).toEqual([field, `Invalid node parameters: ${field}`]);
      }
      expect(gate).not.toHaveBeenCalled();
      expect(seen).toHaveLength(0);
    });

    it('accepts the postAsUser flag as text, cleared fields and UI fields', async () => {
      const connections = new FakeConnections();
      const base = { connectionScope: 'user', connectionId: 'c-9', channel: '#x', message: 'm' };
      await run(
        'Slack',
        { ...base, postAsUser: 'TRUE', connection: '', identity: null, uiPicker: { open: false } },
        {
          connections,
        },
      );
      await run('Slack', { ...base, postAsUser: 'false', connection: null, webhookUrl: null }, { connections });
      expect(connections.slack.map((m) => m.identity)).toEqual(['personal_user', 'workspace_bot']);

      await run('Google Chat', { webhookUrl: chatUrl, message: 'hi', cardJson: '', token: null, channelPicker: [] });
      expect(JSON.parse(seen[0].body)).toEqual({ text: 'hi' });
    });
  });

  describe('Google Chat', () => {
    it('posts a templated text message without the plan gate', async () => {
      const result = await run('Google Chat', {
        webhookUrl: chatUrl,
        message: 'Order {{Hook.order.id}} for {{Hook.name}}',
      });
      expect(result).toEqual({
        outputs: { sent: true, service: 'Google Chat', platform: 'Google Chat', status: 200 },
      });
      expect(seen).toHaveLength(1);
      expect(seen[0].method).toBe('POST');
      expect(seen[0].url).toBe('/v1/spaces/AAAA/messages?key=CHATKEY-SECRET&token=CHATTOKEN-SECRET');
      expect(seen[0].headers['content-type']).toBe('application/json');
      expect(JSON.parse(seen[0].body)).toEqual({ text: 'Order 42 for Ada' });
      expect(gate).not.toHaveBeenCalled();
    });

    it('posts a templated card (values with quotes stay valid JSON)', async () => {
      const card = {
        cardsV2: [{ cardId: 'c1', card: { header: { title: 'Order {{Hook.order.id}}', subtitle: '{{Hook.quote}}' } } }],
      };
      await run('googlechat', { webhookUrl: chatUrl, cardJson: JSON.stringify(card), message: 'ignored' });
      expect(JSON.parse(seen[0].body)).toEqual({
        cardsV2: [{ cardId: 'c1', card: { header: { title: 'Order 42', subtitle: 'say "hi"' } } }],
      });
    });

    it('templates a card whose placeholders sit outside strings', async () => {
      await run('Google Chat', { webhookUrl: chatUrl, cardJson: '{"cards":[{"id":{{Hook.order.id}}}]}' });
      expect(JSON.parse(seen[0].body)).toEqual({ cards: [{ id: 42 }] });
    });

    it('rejects invalid card JSON and cards without cards/cardsV2', async () => {
      expect((await failure(run('Google Chat', { webhookUrl: chatUrl, cardJson: '{not json' }))).message).toBe(
        'Card JSON is not valid JSON',
      );
      expect((await failure(run('Google Chat', { webhookUrl: chatUrl, cardJson: '[1,2]' }))).message).toBe(
        'Card JSON must be a JSON object',
      );
      expect((await failure(run('Google Chat', { webhookUrl: chatUrl, cardJson: '{"text":"x"}' }))).message).toBe(
        'Card JSON must contain cards or cardsV2',
      );
      expect(seen).toHaveLength(0);
    });

    it('validates the webhook URL and message without echoing them', async () => {
      const ftp = await failure(run('Google Chat', { webhookUrl: 'ftp://host/CHATKEY-x', message: 'x' }));
      expect(ftp.message).toBe('Google Chat webhook URL must use http or https');
      expect((await failure(run('Google Chat', { webhookUrl: 'CHATKEY nonsense', message: 'x' }))).message).toBe(
        'Google Chat webhook URL is not a valid URL',
      );
      expect((await failure(run('Google Chat', { message: 'x' }))).message).toBe('Google Chat webhook URL is required');
      expect((await failure(run('Google Chat', { webhookUrl: chatUrl, message: '{{Hook.none}}' }))).message).toBe(
        'message is required',
      );
      expect(seen).toHaveLength(0);
    });

    it('turns a non-2xx status into an error that carries no URL', async () => {
      status = 500;
      const err = await failure(run('Google Chat', { webhookUrl: chatUrl, message: 'x' }));
      expect(err).toBeInstanceOf(NodeError);
      expect(err.message).toBe('Google Chat responded 500');
    });

    it('reports transport failures without the URL', async () => {
      const err = await failure(
        run('Google Chat', { webhookUrl: `http://127.0.0.1:${closedPort}/x?key=CHATKEY-1`, message: 'x' }),
      );
      expect(err.message).toMatch(/^Google Chat request failed: /);
      expectNoSecrets(err);
    });
  });

  describe('Slack', () => {
    it('passes the plan gate, then posts to the incoming webhook', async () => {
      const result = await run('Slack', { webhookUrl: slackUrl, message: 'Hi {{Hook.name}}' });
      expect(result.outputs).toEqual({ sent: true, service: 'Slack', platform: 'Slack', status: 200 });
      expect(gate).toHaveBeenCalledTimes(1);
      expect(gate).toHaveBeenCalledWith(runInfo, 'slack');
      expect(seen[0].method).toBe('POST');
      expect(seen[0].url).toBe('/services/T000/B000/SLACKHOOK-SECRET');
      expect(JSON.parse(seen[0].body)).toEqual({ text: 'Hi Ada' });
    });

    it("propagates the gate's refusal and sends nothing", async () => {
      gate.mockRejectedValueOnce(new NodeError('Forbidden: Slack requires a workspace plan'));
      const err = await failure(run('Slack', { webhookUrl: slackUrl, message: 'x' }));
      expect(err).toBeInstanceOf(NodeError);
      expect(err.message).toBe('Forbidden: Slack requires a workspace plan');
      expect(seen).toHaveLength(0);
    });

    it('requires the webhook URL when the identity says incoming_webhook', async () => {
      const err = await failure(run('Slack', { identity: 'incoming_webhook', message: 'x' }));
      expect(err.message).toBe('Slack webhook URL is required');
    });

    it('turns a webhook error status into an error without the URL', async () => {
      status = 404;
      const err = await failure(run('Slack', { webhookUrl: slackUrl, message: 'x' }));
      expect(err.message).toBe('Slack responded 404');
    });

    it('fails clearly for bot messages when no connection provider is configured', async () => {
      for (const params of [
        { identity: 'workspace_bot', connectionScope: 'workspace', connectionId: 'c-1', channel: '#ops', message: 'x' },
        // An explicit bot identity wins over a stale webhook URL.
        { identity: 'personal_user', webhookUrl: slackUrl, channel: '#ops', message: 'x' },
        { connection: { connectionScope: 'user', connectionId: 'c-2' }, channel: '#ops', message: 'x' },
      ]) {
        const err = await failure(run('Slack', params));
        expect(err).toBeInstanceOf(NodeError);
        expect(err.message).toBe(
          'Slack bot messages need a Slack connection provider, which is not configured on this server',
        );
      }
      expect(seen).toHaveLength(0);
    });

    it('posts bot messages through the provider with explicit identity and connection', async () => {
      const connections = new FakeConnections();
      const result = await run(
        'Slack',
        {
          identity: 'workspace_bot',
          connection: { connectionScope: 'workspace', connectionId: 'conn-1' },
          channel: '#orders-{{Hook.order.id}}',
          message: 'Hi {{Hook.name}}',
        },
        { connections },
        { timeout: 5000 },
      );
      expect(result.outputs).toEqual({
        sent: true,
        service: 'Slack',
        platform: 'Slack',
        messageTs: '1700000000.000100',
        channelId: 'C123',
        connectionScope: 'workspace',
        connectionId: 'conn-1',
      });
      expect(connections.slack).toHaveLength(1);
      expect(connections.slack[0]).toMatchObject({
        run: runInfo,
        nodeId: 'msg-1',
        identity: 'workspace_bot',
        connectionScope: 'workspace',
        connectionId: 'conn-1',
        channel: '#orders-42',
        message: 'Hi Ada',
        timeoutMs: 5000,
      });
      expect(gate).toHaveBeenCalledWith(runInfo, 'slack');
      expect(seen).toHaveLength(0);
    });

    it('maps the legacy postAsUser flag and requires identity, connection and channel', async () => {
      const connections = new FakeConnections();
      const base = { connectionScope: 'user', connectionId: 'c-9', channel: '#x', message: 'm' };
      await run('Slack', { ...base, postAsUser: true }, { connections });
      expect(connections.slack[0].identity).toBe('personal_user');

      expect((await failure(run('Slack', base, { connections }))).message).toBe(
        'Slack identity is required (workspace_bot or personal_user)',
      );
      expect(
        (await failure(run('Slack', { ...base, identity: 'workspace_bot', connectionId: '' }, { connections })))
          .message,
      ).toBe('OAuth connections require explicit connectionScope and connectionId parameters');
      expect(
        (await failure(run('Slack', { ...base, identity: 'workspace_bot', channel: '' }, { connections }))).message,
      ).toBe('channel is required');
      expect((await failure(run('Slack', { message: 'x' }, { connections }))).message).toBe(
        'Slack messages need an incoming webhook URL or a Slack connection (identity)',
      );
      expect(connections.slack).toHaveLength(1);
    });
  });

  describe('Microsoft Teams', () => {
    it('passes the plan gate, then posts text to the incoming webhook', async () => {
      const result = await run('Microsoft Teams', {
        deliveryMethod: 'Incoming Webhook',
        webhookUrl: teamsUrl,
        message: 'Order {{Hook.order.id}}',
      });
      expect(result.outputs).toEqual({
        sent: true,
        service: 'Microsoft Teams',
        platform: 'Microsoft Teams',
        status: 200,
      });
      expect(gate).toHaveBeenCalledWith(runInfo, 'teams');
      expect(seen[0].url).toBe('/webhookb2/TEAMSHOOK-SECRET');
      expect(JSON.parse(seen[0].body)).toEqual({ text: 'Order 42' });
    });

    it('uses the webhook when only a webhook URL is given, and sends cards', async () => {
      const adaptive = { type: 'AdaptiveCard', version: '1.4', body: [{ type: 'TextBlock', text: '{{Hook.name}}' }] };
      await run('teams', { webhookUrl: teamsUrl, cardJson: JSON.stringify(adaptive) });
      expect(JSON.parse(seen[0].body)).toEqual({
        type: 'message',
        attachments: [
          {
            contentType: 'application/vnd.microsoft.card.adaptive',
            contentUrl: null,
            content: { ...adaptive, body: [{ type: 'TextBlock', text: 'Ada' }] },
          },
        ],
      });

      const messageCard = {
        '@type': 'MessageCard',
        '@context': 'https://schema.org/extensions',
        text: '{{Hook.name}}',
      };
      await run('teams', { webhookUrl: teamsUrl, cardJson: JSON.stringify(messageCard) });
      expect(JSON.parse(seen[1].body)).toEqual({ ...messageCard, text: 'Ada' });

      const err = await failure(run('teams', { webhookUrl: teamsUrl, cardJson: '{"hello":1}' }));
      expect(err.message).toBe('Teams card JSON must be a MessageCard or an Adaptive Card');
      expect(seen).toHaveLength(2);
    });

    it('adds the Workflow (Power Automate) secret header when configured', async () => {
      await run('Microsoft Teams', {
        deliveryMethod: 'Workflow (Power Automate)',
        workflowOption: 'Header Secret Auth',
        workflowHeaderName: 'X-Flow-Secret',
        workflowHeaderSecret: 'HEADER-SECRET-1',
        webhookUrl: teamsUrl,
        message: 'x',
      });
      expect(seen[0].headers['x-flow-secret']).toBe('HEADER-SECRET-1');
      const err = await failure(
        run('Microsoft Teams', { workflowOption: 'Header Secret Auth', webhookUrl: teamsUrl, message: 'x' }),
      );
      expect(err.message).toBe('workflowHeaderName is required and must be a header name');
    });

    it('turns a webhook error status into an error without the URL', async () => {
      status = 400;
      const err = await failure(run('Microsoft Teams', { webhookUrl: teamsUrl, message: 'x' }));
      expect(err.message).toBe('Microsoft Teams responded 400');
    });

    it('fails clearly for delegated messages when no connection provider is configured', async () => {
      for (const params of [
        { deliveryMethod: 'Delegated OAuth (Post as user)', teamId: 't', channelId: 'c', message: 'x' },
        { teamId: 't', channelId: 'c', webhookUrl: teamsUrl, message: 'x' },
      ]) {
        const err = await failure(run('Microsoft Teams', params));
        expect(err.message).toBe(
          'Teams delegated messages need a Microsoft Teams connection provider, which is not configured on this server',
        );
      }
      expect(seen).toHaveLength(0);
    });

    it('posts delegated messages through the provider', async () => {
      const connections = new FakeConnections();
      const result = await run(
        'Microsoft Teams',
        {
          deliveryMethod: 'Delegated OAuth (Post as user)',
          connectionScope: 'user',
          connectionId: 'conn-7',
          teamId: 'team-1',
          channelId: 'chan-1',
          message: 'Hi {{Hook.name}}',
        },
        { connections },
      );
      expect(result.outputs).toEqual({
        sent: true,
        service: 'Microsoft Teams',
        platform: 'Microsoft Teams',
        messageId: 'teams-msg-1',
      });
      expect(connections.teams[0]).toMatchObject({
        teamId: 'team-1',
        channelId: 'chan-1',
        message: 'Hi Ada',
        connectionScope: 'user',
        connectionId: 'conn-7',
        timeoutMs: 30000,
      });
      expect(gate).toHaveBeenCalledWith(runInfo, 'teams');
    });

    it('rejects an unknown delivery method or a missing one', async () => {
      expect((await failure(run('Microsoft Teams', { deliveryMethod: 'Carrier pigeon', message: 'x' }))).message).toBe(
        'Unsupported Teams delivery method',
      );
      expect((await failure(run('Microsoft Teams', { message: 'x' }))).message).toBe(
        'Teams messages need a delivery method (Incoming Webhook or Delegated OAuth)',
      );
    });
  });
});
