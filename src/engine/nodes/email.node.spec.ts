import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import type { EgressSettings } from '../../egress/egress-policy';
import { UndiciOutboundHttp } from '../../egress/undici-outbound-http';
import {
  GuardedOutboundHttp,
  type EgressBlock,
  type GuardedOutboundHttpOptions,
} from '../../egress/guarded-outbound-http';
import { type OutboundHttp } from '../../egress/outbound-http';
import { NodeError, type NodeContext } from '../node-types';
import { EmailNode, signAwsRequest, type EmailNodeOptions } from './email.node';
import { waitFor } from '../../../test/utils/wait';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

interface Delivered {
  from: string | undefined;
  to: string[];
  secure: boolean;
  user: string | undefined;
  /** The TLS server name (SNI) the client asked for. */
  servername: string | undefined;
  raw: string;
}

const context = { Hook: { name: 'Ada', order: { id: 42 } } };
const SECRET = 'sk-live-DO-NOT-LEAK-123';
const PASSWORD = 'hunter2-smtp-secret';

const failure = async (promise: Promise<unknown>): Promise<NodeError> => {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NodeError);
  return err as NodeError;
};

const listen = (server: { listen: (port: number, host: string, cb: () => void) => unknown }, addr: () => unknown) =>
  new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((addr() as AddressInfo).port)));

function nodeContext(
  signal = new AbortController().signal,
  http: OutboundHttp = new UndiciOutboundHttp({ maxResponseBytes: 1e6 }),
  egressAllowlist: string[] = [],
): NodeContext {
  return {
    context,
    run: { runId: 'run-1', workflowId: 'wf-1', ownerId: 'user-1', workspaceId: null, egressAllowlist },
    signal,
    http,
    secrets: [PASSWORD],
    now: () => new Date(),
  };
}

describe('signAwsRequest (AWS SigV4)', () => {
  it("reproduces AWS's published IAM ListUsers example", () => {
    const headers = signAwsRequest(
      {
        method: 'GET',
        url: 'https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body: '',
      },
      {
        accessKeyId: 'AKIDEXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
        region: 'us-east-1',
        service: 'iam',
      },
      new Date('2015-08-30T12:36:00Z'),
    );
    expect(headers).toEqual({
      'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8',
      'X-Amz-Date': '20150830T123600Z',
      Authorization:
        'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, ' +
        'SignedHeaders=content-type;host;x-amz-date, ' +
        'Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
    });
  });
});

describe('EmailNode SMTP (real smtp-server)', () => {
  const delivered: Delivered[] = [];
  let connections = 0;
  let smtpPort: number;
  let noTlsPort: number;
  let silentPort: number;
  const silentSockets = new Set<Socket>();

  const serverOptions = (extra: Partial<SMTPServerOptions>): SMTPServerOptions => ({
    secure: false,
    logger: false,
    authMethods: ['PLAIN', 'LOGIN'],
    onConnect(_session, callback) {
      connections++;
      callback();
    },
    onAuth(auth, _session, callback) {
      if (auth.username === 'mailer' && auth.password === PASSWORD) return callback(null, { user: auth.username });
      return callback(new Error('Invalid username or password'));
    },
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const from = session.envelope.mailFrom;
        delivered.push({
          from: from ? from.address : undefined,
          to: session.envelope.rcptTo.map((r) => r.address),
          secure: session.secure,
          user: typeof session.user === 'string' ? session.user : undefined,
          servername: (session as { servername?: string }).servername,
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
    ...extra,
  });
  const smtp = new SMTPServer(serverOptions({}));
  const noTls = new SMTPServer(serverOptions({ disabledCommands: ['STARTTLS'], allowInsecureAuth: true }));
  const silent: NetServer = createNetServer((socket) => {
    silentSockets.add(socket);
    socket.on('close', () => silentSockets.delete(socket));
  });

  const node = (options: Partial<EmailNodeOptions> = {}) =>
    new EmailNode({
      sendgridBaseUrl: 'http://127.0.0.1:1',
      mailgunBaseUrl: 'http://127.0.0.1:1',
      mailgunEuBaseUrl: 'http://127.0.0.1:1',
      sesEndpoint: () => 'http://127.0.0.1:1',
      allowInsecureTls: true,
      ...options,
    });
  const smtpParams = (extra: Record<string, unknown> = {}) => ({
    service: 'smtp',
    smtpHost: '127.0.0.1',
    smtpPort: String(smtpPort),
    smtpUser: 'mailer',
    smtpPassword: PASSWORD,
    from: 'Runloom <robot@example.com>',
    to: 'ada@example.com, Grace@Example.org',
    subject: 'Order {{Hook.order.id}}',
    body: 'Hello {{Hook.name}}, your order shipped.',
    ...extra,
  });
  /** The production egress client, private networks allowed (the server is on 127.0.0.1) unless a test says otherwise. */
  const guarded = (settings: Partial<EgressSettings> = {}, over: Partial<GuardedOutboundHttpOptions> = {}) =>
    new GuardedOutboundHttp({
      maxResponseBytes: 1e6,
      settings: {
        allowedDomains: [],
        disallowedDomains: [],
        defaultDeny: false,
        allowPrivateNetworks: true,
        ...settings,
      },
      onBlocked: (block) => {
        blocks.push(block);
      },
      ...over,
    });
  const blocks: EgressBlock[] = [];
  const run = (
    params: Record<string, unknown>,
    options?: Partial<EmailNodeOptions>,
    extra = {},
    signal?: AbortSignal,
    egress: { http?: OutboundHttp; allowlist?: string[] } = {},
  ) =>
    node(options).execute(
      { id: 'email-1', type: 'action', data: { actionType: 'email', params, ...extra } },
      nodeContext(signal, egress.http ?? guarded(), egress.allowlist),
    );

  beforeAll(async () => {
    smtpPort = await listen(smtp.server, () => smtp.server.address());
    noTlsPort = await listen(noTls.server, () => noTls.server.address());
    silentPort = await listen(silent, () => silent.address());
  });

  afterAll(async () => {
    for (const socket of silentSockets) socket.destroy();
    await Promise.all([
      new Promise<void>((resolve) => smtp.close(() => resolve())),
      new Promise<void>((resolve) => noTls.close(() => resolve())),
      new Promise<void>((resolve) => silent.close(() => resolve())),
    ]);
  });

  beforeEach(() => {
    delivered.length = 0;
    blocks.length = 0;
    connections = 0;
  });

  it('delivers over STARTTLS with authentication and templated subject and body', async () => {
    const result = await run(smtpParams());
    expect(result).toEqual({ outputs: { sent: true, service: 'SMTP', recipient_count: 2 } });
    expect(delivered).toHaveLength(1);
    const [mail] = delivered;
    expect(mail.from).toBe('robot@example.com');
    expect(mail.to).toEqual(['ada@example.com', 'Grace@example.org']); // nodemailer lower-cases the domain
    expect(mail.secure).toBe(true);
    expect(mail.user).toBe('mailer');
    expect(mail.raw).toMatch(/^From: Runloom <robot@example\.com>\r$/m);
    expect(mail.raw).toMatch(/^To: ada@example\.com, Grace@example\.org\r$/m);
    expect(mail.raw).toMatch(/^Subject: Order 42\r$/m);
    expect(mail.raw).toContain('Hello Ada, your order shipped.');
  });

  it('accepts a numeric port and the explicit starttls mode', async () => {
    await run(smtpParams({ smtpPort, smtpTlsMode: 'starttls', to: 'ada@example.com' }));
    expect(delivered).toHaveLength(1);
  });

  it('accepts the legacy smtpTls flag as text, a cleared smtpTlsMode and UI fields', async () => {
    await run(smtpParams({ smtpTls: 'TRUE', smtpTlsMode: null, smtpPort: ` ${smtpPort} `, uiShowPassword: false }));
    expect(delivered).toHaveLength(1);
  });

  it('never sends in plaintext: a server without STARTTLS fails the node', async () => {
    const err = await failure(run(smtpParams({ smtpPort: noTlsPort })));
    expect(err.message).toMatch(/^SMTP TLS negotiation failed/);
    expect(err.message).not.toContain(PASSWORD);
    expect(delivered).toHaveLength(0);
  });

  it('rejects plaintext TLS settings before connecting', async () => {
    for (const extra of [{ smtpTlsMode: 'none' }, { smtpTlsMode: 'plaintext' }, { smtpTls: false }]) {
      expect((await failure(run(smtpParams(extra)))).message).toBe(
        'Plaintext SMTP is not allowed: use STARTTLS or implicit TLS',
      );
    }
    expect(connections).toBe(0);
  });

  it('names a missing field without echoing any value', async () => {
    for (const field of ['smtpHost', 'smtpPort', 'smtpUser', 'smtpPassword', 'from']) {
      const err = await failure(run(smtpParams({ [field]: '' })));
      expect(err.message).toBe(`${field} is required`);
    }
    const err = await failure(run(smtpParams({ smtpPort: 'abc' })));
    expect(err.message).toBe('smtpPort must be a port number (1-65535)');
    expect(connections).toBe(0);
  });

  it('rejects an invalid from address', async () => {
    const err = await failure(run(smtpParams({ from: 'not-an-address' })));
    expect(err.message).toBe('Invalid sender (from) email address');
  });

  it('reports an authentication failure without the password', async () => {
    const err = await failure(run(smtpParams({ smtpPassword: 'wrong-password-xyz' })));
    expect(err.message).toMatch(/^SMTP authentication failed/);
    expect(err.message).not.toContain('wrong-password-xyz');
    expect(delivered).toHaveLength(0);
  });

  it('honours the node timeout against a server that never greets', async () => {
    const started = Date.now();
    const err = await failure(run(smtpParams({ smtpPort: silentPort }), {}, { timeout: 300 }));
    expect(err.message).toMatch(/^SMTP connection timed out/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('aborts when the run signal fires', async () => {
    const controller = new AbortController();
    const pending = run(smtpParams({ smtpPort: silentPort }), {}, {}, controller.signal);
    // Abort once the server holds the connection: mid-conversation, however fast the machine.
    await waitFor(() => silentSockets.size > 0, 'the connection to the silent server');
    controller.abort();
    expect((await failure(pending)).message).toBe('Email sending aborted');
  });

  describe('egress policy (same as HTTP: allowlists, default-deny, address guard, block log)', () => {
    const blockedError = (err: NodeError) => JSON.parse(err.message) as Record<string, unknown>;

    it('delivers to an allowlisted host name, resolved once, connected by address, with the name as TLS server name', async () => {
      const lookups: string[] = [];
      // A rebinding resolver: the first answer is the local server, any later one a private address.
      const http = guarded(
        { allowPrivateNetworks: false },
        {
          resolve: async (host) => {
            lookups.push(host);
            return lookups.length === 1 ? ['127.0.0.1'] : ['10.0.0.7'];
          },
          trustAddress: (ip) => ip === '127.0.0.1',
        },
      );
      const result = await run(smtpParams({ smtpHost: 'Mail.Example.TEST.' }), {}, {}, undefined, {
        http,
        allowlist: ['mail.example.test'],
      });
      expect(result).toEqual({ outputs: { sent: true, service: 'SMTP', recipient_count: 2 } });
      expect(lookups).toEqual(['mail.example.test']);
      expect(delivered).toHaveLength(1);
      expect(delivered[0].secure).toBe(true);
      expect(delivered[0].servername).toBe('mail.example.test');
      expect(blocks).toEqual([]);
    });

    it('refuses a host outside the workflow allowlist before connecting and reports the block without the password', async () => {
      const err = await failure(run(smtpParams(), {}, {}, undefined, { allowlist: ['mail.example.com'] }));
      expect(blockedError(err)).toEqual({
        error: 'egress_blocked',
        host: '127.0.0.1',
        message: 'Outbound SMTP not allowed: 127.0.0.1',
        rule: 'allowlist_miss',
      });
      expect(connections).toBe(0);
      expect(blocks).toEqual([
        {
          rule: 'allowlist_miss',
          host: '127.0.0.1',
          url: `smtp://127.0.0.1:${smtpPort}`,
          message: 'Outbound SMTP not allowed: 127.0.0.1',
          origin: expect.objectContaining({ workflowId: 'wf-1', runId: 'run-1', nodeId: 'email-1', ownerId: 'user-1' }),
        },
      ]);
      expect(JSON.stringify({ err: err.message, blocks: blocks.map(({ origin: _o, ...b }) => b) })).not.toContain(
        PASSWORD,
      );
    });

    it('EGRESS_DEFAULT_DENY refuses an unlisted SMTP host; ALLOWED_HTTP_DOMAINS lets a listed one through', async () => {
      const err = await failure(run(smtpParams(), {}, {}, undefined, { http: guarded({ defaultDeny: true }) }));
      expect(blockedError(err)).toEqual({
        error: 'egress_blocked',
        host: '127.0.0.1',
        message: 'Outbound SMTP not allowed (default-deny): 127.0.0.1',
        rule: 'default_deny',
      });
      expect(blocks.map((b) => [b.rule, b.url])).toEqual([['default_deny', `smtp://127.0.0.1:${smtpPort}`]]);
      expect(connections).toBe(0);

      const listed = guarded({ defaultDeny: true, allowedDomains: ['127.0.0.1'] });
      await run(smtpParams(), {}, {}, undefined, { http: listed });
      expect(delivered).toHaveLength(1);
      // The deployment list and the workflow list intersect, as for HTTP.
      const other = await failure(
        run(smtpParams(), {}, {}, undefined, { http: listed, allowlist: ['mail.example.com'] }),
      );
      expect(blockedError(other).rule).toBe('default_deny');
      expect(delivered).toHaveLength(1);
    });

    it('applies the deny list to SMTP hosts', async () => {
      const err = await failure(
        run(smtpParams(), {}, {}, undefined, { http: guarded({ disallowedDomains: ['127.0.0.1'] }) }),
      );
      expect(blockedError(err)).toMatchObject({
        rule: 'denylist',
        message: 'Outbound SMTP blocked by denylist: 127.0.0.1',
      });
      expect(connections).toBe(0);
    });

    it('refuses private addresses (literal, obfuscated or resolved) unless EGRESS_ALLOW_PRIVATE_NETWORKS', async () => {
      const http = guarded(
        { allowPrivateNetworks: false },
        { resolve: async (host) => (host === 'internal.example.test' ? ['93.184.216.34', '10.0.0.7'] : []) },
      );
      const cases: [string, string, string][] = [
        ['127.0.0.1', '127.0.0.1', 'loopback'],
        ['0x7f000001', '127.0.0.1', 'loopback'],
        ['[::1]', '::1', 'loopback'],
        ['::ffff:127.0.0.1', '::ffff:7f00:1', 'loopback'],
        ['metadata.google.internal', 'metadata.google.internal', 'metadata'],
        ['internal.example.test', 'internal.example.test', 'private'],
      ];
      for (const [smtpHost, host, reason] of cases) {
        const err = await failure(run(smtpParams({ smtpHost }), {}, {}, undefined, { http }));
        expect(blockedError(err)).toEqual({
          error: 'egress_blocked',
          host,
          message: `Outbound SMTP blocked by SSRF guard: ${host} (${reason}); set EGRESS_ALLOW_PRIVATE_NETWORKS=true to allow private addresses (local development only)`,
          rule: 'ssrf',
        });
      }
      expect(blocks.map((b) => b.rule)).toEqual(cases.map(() => 'ssrf'));
      expect(blocks[2].url).toBe(`smtp://[::1]:${smtpPort}`);
      expect(connections).toBe(0);

      // The same send with private networks allowed (the default of these tests) reaches the server.
      await run(smtpParams());
      expect(delivered).toHaveLength(1);
    });

    it('refuses host values that are not one bare host name or address, without echoing them', async () => {
      for (const smtpHost of [`127.0.0.1:${smtpPort}`, 'mailer@127.0.0.1', 'mail example.com', 'host/path', '[nope]']) {
        const err = await failure(run(smtpParams({ smtpHost })));
        expect(err.message).toBe('SMTP host is not a valid host name or address');
      }
      expect(connections).toBe(0);
    });

    it('sends no SMTP through an outbound client that cannot apply the egress policy', async () => {
      const err = await failure(
        run(smtpParams(), {}, {}, undefined, { http: new UndiciOutboundHttp({ maxResponseBytes: 1e6 }) }),
      );
      expect(err.message).toBe('SMTP is unavailable: the outbound client cannot apply the egress policy to it');
      expect(connections).toBe(0);
    });
  });
});

describe('EmailNode API providers (local HTTP servers, real UndiciOutboundHttp)', () => {
  const seen: Seen[] = [];
  let reply: Reply = { status: 200 };
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      res.writeHead(reply.status, reply.headers ?? {}).end(reply.body ?? '');
    });
  });
  let base: string;

  const node = () =>
    new EmailNode({
      sendgridBaseUrl: `${base}/sendgrid/`,
      mailgunBaseUrl: `${base}/mailgun`,
      mailgunEuBaseUrl: `${base}/mailgun-eu`,
      sesEndpoint: (region) => `${base}/ses-${region}`,
    });
  const run = (params: Record<string, unknown>, data: Record<string, unknown> = {}) =>
    node().execute({ id: 'email-1', type: 'action', data: { actionType: 'email', params, ...data } }, nodeContext());

  beforeAll(async () => {
    base = `http://127.0.0.1:${await listen(server, () => server.address())}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    seen.length = 0;
    reply = { status: 200 };
  });

  describe('provider selection', () => {
    it('rejects an unsupported service without echoing params', async () => {
      for (const data of [{ emailProvider: 'postmark' }, {}]) {
        const err = await failure(run({ service: 'pigeon', apiKey: SECRET, to: 'a@example.com' }, data));
        expect(err.message).toBe('Unsupported email service');
        expect(err.message).not.toContain(SECRET);
        expect(err.message).not.toContain('pigeon');
      }
      expect(seen).toHaveLength(0);
    });

    it("prefers data.emailProvider over params.service and accepts 'amazon ses'", async () => {
      reply = { status: 202 };
      const sendgrid = { apiKey: SECRET, from: 'a@example.com', to: 'b@example.com', subject: 's', body: 'b' };
      await run({ ...sendgrid, service: 'mailgun' }, { emailProvider: 'sendgrid' });
      expect(seen[0].url).toBe('/sendgrid/v3/mail/send');

      reply = { status: 200, body: '{"MessageId":"m"}' };
      const result = await run({
        service: 'Amazon SES',
        awsAccessKey: 'AKID',
        awsSecretKey: SECRET,
        awsRegion: 'us-east-1',
        from: 'a@example.com',
        to: 'b@example.com',
        subject: 's',
        body: 'b',
      });
      expect(result.outputs).toMatchObject({ service: 'Amazon SES', version: 'v2' });
    });
  });

  describe('params validation', () => {
    const sendgrid = {
      service: 'sendgrid',
      apiKey: SECRET,
      from: 'a@example.com',
      to: 'b@example.com',
      subject: 's',
      body: 'b',
    };

    it('refuses params of the wrong type before sending, naming the field and never its value', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ to: ['b@example.com'] }, 'to'],
        [{ apiKey: 12345 }, 'apiKey'],
        [{ subject: { text: SECRET } }, 'subject'],
        [{ service: 7 }, 'service'],
        [{ smtpPort: true }, 'smtpPort'],
        [{ smtpPassword: [SECRET] }, 'smtpPassword'],
        [{ smtpTls: 'sometimes' }, 'smtpTls'],
        [{ substitutions: [{ key: 5, value: SECRET }] }, 'substitutions'],
        [{ variables: [SECRET] }, 'variables'],
        [{ templateVariables: 42 }, 'templateVariables'],
        [{ awsSecretKey: 1, sesVersion: 2 }, 'awsSecretKey, sesVersion'],
      ];
      for (const [params, fields] of cases) {
        const err = await failure(run({ ...sendgrid, ...params }));
        expect([fields, err.message]).toEqual([fields, `Invalid node parameters: ${fields}`]);
      }
      expect((await failure(run(SECRET as unknown as Record<string, unknown>))).message).toBe(
        'Invalid node parameters: params must be an object',
      );
      expect(seen).toHaveLength(0);
    });

    it('accepts cleared fields, fields of another provider and UI fields', async () => {
      reply = { status: 202 };
      const result = await run({
        ...sendgrid,
        templateId: null,
        substitutions: '',
        // Left over from SMTP and Amazon SES in the UI: typed right, ignored by SendGrid.
        smtpHost: '',
        smtpPort: 'abc',
        smtpTls: '',
        sesVersion: 'v9',
        toEmail: null,
        uiTab: 'advanced',
        ui: { expanded: true },
      });
      expect(result.outputs).toMatchObject({ sent: true, service: 'SendGrid', status: 202 });
      expect(seen).toHaveLength(1);
    });

    it('takes template data as rows, an object or JSON object text, skipping rows without a key', async () => {
      reply = { status: 202 };
      const templated = { ...sendgrid, subject: '', body: '', templateId: 'd-1' };
      for (const substitutions of [
        [{ key: 'name', value: '{{Hook.name}}' }, { key: '', value: 'x' }, { value: 'y' }, { key: null }],
        { name: '{{Hook.name}}' },
        '{"name":"{{Hook.name}}"}',
      ]) {
        await run({ ...templated, substitutions });
      }
      expect(seen.map((r) => JSON.parse(r.body).personalizations[0].dynamic_template_data)).toEqual([
        { name: 'Ada' },
        { name: 'Ada' },
        { name: 'Ada' },
      ]);
      const err = await failure(run({ ...templated, substitutions: '[1,2]' }));
      expect(err.message).toBe('Template variables must be a JSON object');
    });
  });

  describe('recipients', () => {
    const params = (to: unknown) => ({
      service: 'sendgrid',
      apiKey: SECRET,
      from: 'a@example.com',
      to,
      subject: 's',
      body: 'b',
    });

    it('rejects a malformed address, naming it', async () => {
      for (const bad of ['ada@example', 'ada.example.com', 'a b@example.com', 'ada@@example.com', '<a@example.com>']) {
        const err = await failure(run(params(`ok@example.com, ${bad}`)));
        expect(err.message).toBe(`Invalid recipient email address: ${bad}`);
      }
      expect(seen).toHaveLength(0);
    });

    it('rejects case-insensitive duplicates', async () => {
      const err = await failure(run(params('ada@example.com, ADA@Example.com')));
      expect(err.message).toBe('Duplicate recipient email address: ADA@Example.com');
    });

    it('requires at least one recipient and does not template the list', async () => {
      expect((await failure(run(params(' , ')))).message).toBe('At least one recipient is required');
      expect((await failure(run(params(undefined)))).message).toBe('At least one recipient is required');
      expect((await failure(run(params('{{Hook.email}}')))).message).toBe(
        'Invalid recipient email address: {{Hook.email}}',
      );
    });
  });

  describe('SendGrid', () => {
    const params = (extra: Record<string, unknown> = {}) => ({
      service: 'sendgrid',
      apiKey: SECRET,
      from: 'Runloom <robot@example.com>',
      to: 'ada@example.com,grace@example.com',
      subject: 'Order {{Hook.order.id}}',
      body: 'Hi {{Hook.name}}',
      ...extra,
    });

    it('posts the message with a bearer key and reports the message id', async () => {
      reply = { status: 202, headers: { 'X-Message-Id': 'sg-123' } };
      const result = await run(params());
      expect(result.outputs).toEqual({ sent: true, service: 'SendGrid', status: 202, message_id: 'sg-123' });
      expect(seen).toHaveLength(1);
      expect(seen[0].method).toBe('POST');
      expect(seen[0].url).toBe('/sendgrid/v3/mail/send');
      expect(seen[0].headers.authorization).toBe(`Bearer ${SECRET}`);
      expect(seen[0].headers['content-type']).toBe('application/json');
      expect(JSON.parse(seen[0].body)).toEqual({
        personalizations: [{ to: [{ email: 'ada@example.com' }, { email: 'grace@example.com' }] }],
        from: { email: 'robot@example.com', name: 'Runloom' },
        subject: 'Order 42',
        content: [{ type: 'text/plain', value: 'Hi Ada' }],
      });
    });

    it('sends dynamic template data from substitutions, subject and body optional', async () => {
      reply = { status: 202 };
      const result = await run(
        params({
          subject: '',
          body: '',
          templateId: 'd-abc',
          substitutions: [
            { key: 'name', value: '{{Hook.name}}' },
            { key: 'order', value: '#{{Hook.order.id}}' },
          ],
        }),
      );
      expect(result.outputs).toEqual({ sent: true, service: 'SendGrid', status: 202, message_id: null });
      expect(JSON.parse(seen[0].body)).toEqual({
        personalizations: [
          {
            to: [{ email: 'ada@example.com' }, { email: 'grace@example.com' }],
            dynamic_template_data: { name: 'Ada', order: '#42' },
          },
        ],
        from: { email: 'robot@example.com', name: 'Runloom' },
        template_id: 'd-abc',
      });
    });

    it('requires subject and body without a template', async () => {
      expect((await failure(run(params({ subject: '' })))).message).toBe('subject is required');
      expect((await failure(run(params({ body: '{{Hook.missing}}' })))).message).toBe('body is required');
      expect((await failure(run(params({ apiKey: ' ' })))).message).toBe('apiKey is required');
      expect(seen).toHaveLength(0);
    });

    it('turns an error status into a node error without params', async () => {
      reply = { status: 401, body: `{"errors":[{"message":"bad key ${SECRET}"}]}` };
      const err = await failure(run(params()));
      expect(err.message).toBe('SendGrid responded 401');
    });

    it('reports transport failures without params', async () => {
      const err = await failure(
        new EmailNode({
          sendgridBaseUrl: 'http://127.0.0.1:1',
          mailgunBaseUrl: '',
          mailgunEuBaseUrl: '',
          sesEndpoint: () => '',
        }).execute({ id: 'e', type: 'action', data: { params: params() } }, nodeContext()),
      );
      expect(err.message).toMatch(/^SendGrid request failed/);
      expect(err.message).not.toContain(SECRET);
    });
  });

  describe('Mailgun', () => {
    const params = (extra: Record<string, unknown> = {}) => ({
      service: 'mailgun',
      domain: 'mg.example.com',
      apiKey: SECRET,
      from: 'Runloom <robot@example.com>',
      to: 'ada@example.com, grace@example.com',
      subject: 'Order {{Hook.order.id}}',
      body: 'Hi {{Hook.name}}',
      ...extra,
    });

    it('posts a form with basic auth to the US base', async () => {
      reply = { status: 200, body: '{"id":"<mg-1@mg.example.com>","message":"Queued. Thank you."}' };
      const result = await run(params());
      expect(result.outputs).toEqual({
        sent: true,
        service: 'Mailgun',
        status: 200,
        message_id: '<mg-1@mg.example.com>',
      });
      expect(seen[0].method).toBe('POST');
      expect(seen[0].url).toBe('/mailgun/v3/mg.example.com/messages');
      expect(seen[0].headers.authorization).toBe(`Basic ${Buffer.from(`api:${SECRET}`).toString('base64')}`);
      expect(seen[0].headers['content-type']).toBe('application/x-www-form-urlencoded');
      const form = new URLSearchParams(seen[0].body);
      expect(form.get('from')).toBe('Runloom <robot@example.com>');
      expect(form.getAll('to')).toEqual(['ada@example.com', 'grace@example.com']);
      expect(form.get('subject')).toBe('Order 42');
      expect(form.get('text')).toBe('Hi Ada');
    });

    it('uses the EU base for an EU region and sends template variables', async () => {
      reply = { status: 200, body: '{"id":"x"}' };
      await run(
        params({
          region: 'EU',
          subject: '',
          body: '',
          template: 'welcome',
          variables: [{ key: 'name', value: '{{Hook.name}}' }],
        }),
      );
      expect(seen[0].url).toBe('/mailgun-eu/v3/mg.example.com/messages');
      const form = new URLSearchParams(seen[0].body);
      expect(form.get('template')).toBe('welcome');
      expect(JSON.parse(form.get('h:X-Mailgun-Variables') ?? '')).toEqual({ name: 'Ada' });
      expect(form.has('subject')).toBe(false);
    });

    it('rejects a domain that could change the path, and error statuses', async () => {
      expect((await failure(run(params({ domain: '../v4/x' })))).message).toBe(
        'Mailgun domain is not a valid domain name',
      );
      reply = { status: 403, body: 'Forbidden' };
      const err = await failure(run(params()));
      expect(err.message).toBe('Mailgun responded 403');
    });
  });

  describe('Amazon SES', () => {
    const AWS_SECRET = 'aws-secret-DO-NOT-LEAK';
    const params = (extra: Record<string, unknown> = {}) => ({
      service: 'amazon_ses',
      awsAccessKey: 'AKIDTEST',
      awsSecretKey: AWS_SECRET,
      awsRegion: 'eu-west-1',
      fromEmail: 'robot@example.com',
      toEmail: 'ada@example.com',
      subject: 'Order {{Hook.order.id}}',
      body: 'Hi {{Hook.name}}',
      ...extra,
    });

    /** Re-signs what the server received: proves the signature covers what fetch actually sent. */
    function expectValidSignature(request: Seen, region: string): void {
      const amzDate = String(request.headers['x-amz-date']);
      const date = new Date(
        `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
      );
      const expected = signAwsRequest(
        {
          method: request.method,
          url: `http://${request.headers.host}${request.url}`,
          headers: { 'Content-Type': String(request.headers['content-type']) },
          body: request.body,
        },
        { accessKeyId: 'AKIDTEST', secretAccessKey: AWS_SECRET, region, service: 'ses' },
        date,
      );
      expect(request.headers.authorization).toBe(expected.Authorization);
      expect(request.headers.authorization).toMatch(
        new RegExp(
          `^AWS4-HMAC-SHA256 Credential=AKIDTEST/${amzDate.slice(0, 8)}/${region}/ses/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=[0-9a-f]{64}$`,
        ),
      );
    }

    it('sends a v2 SendEmail with simple content, signed with SigV4', async () => {
      reply = { status: 200, headers: { 'Content-Type': 'application/json' }, body: '{"MessageId":"ses-1"}' };
      const result = await run(params());
      expect(result.outputs).toEqual({
        sent: true,
        service: 'Amazon SES',
        version: 'v2',
        status: 200,
        message_id: 'ses-1',
      });
      expect(seen[0].method).toBe('POST');
      expect(seen[0].url).toBe('/ses-eu-west-1/v2/email/outbound-emails');
      expect(JSON.parse(seen[0].body)).toEqual({
        FromEmailAddress: 'robot@example.com',
        Destination: { ToAddresses: ['ada@example.com'] },
        Content: {
          Simple: {
            Subject: { Data: 'Order 42', Charset: 'UTF-8' },
            Body: { Text: { Data: 'Hi Ada', Charset: 'UTF-8' } },
          },
        },
      });
      expectValidSignature(seen[0], 'eu-west-1');
      expect(seen[0].body).not.toContain(AWS_SECRET);
    });

    it('sends a v2 templated email with TemplateData', async () => {
      reply = { status: 200, body: '{"MessageId":"ses-2"}' };
      await run(
        params({
          subject: '',
          body: '',
          template: 'Welcome',
          templateVariables: '{"name":"{{Hook.name}}","order":"{{Hook.order.id}}"}',
        }),
      );
      const content = JSON.parse(seen[0].body).Content;
      expect(content.Template.TemplateName).toBe('Welcome');
      expect(JSON.parse(content.Template.TemplateData)).toEqual({ name: 'Ada', order: '42' });
    });

    it('sends a v1 SendEmail form to / and reads the message id from XML', async () => {
      reply = {
        status: 200,
        headers: { 'Content-Type': 'text/xml' },
        body: '<SendEmailResponse><SendEmailResult><MessageId>ses-v1</MessageId></SendEmailResult></SendEmailResponse>',
      };
      const result = await run(
        params({ sesVersion: 'v1', awsRegion: '', region: 'us-east-1', to: 'a@example.com,b@example.com' }),
      );
      expect(result.outputs).toEqual({
        sent: true,
        service: 'Amazon SES',
        version: 'v1',
        status: 200,
        message_id: 'ses-v1',
      });
      expect(seen[0].url).toBe('/ses-us-east-1/');
      const form = new URLSearchParams(seen[0].body);
      expect(form.get('Action')).toBe('SendEmail');
      expect(form.get('Source')).toBe('robot@example.com');
      expect(form.get('Destination.ToAddresses.member.1')).toBe('a@example.com');
      expect(form.get('Destination.ToAddresses.member.2')).toBe('b@example.com');
      expect(form.get('Message.Subject.Data')).toBe('Order 42');
      expect(form.get('Message.Body.Text.Data')).toBe('Hi Ada');
      expectValidSignature(seen[0], 'us-east-1');
    });

    it('validates credentials, region and version without echoing values', async () => {
      expect((await failure(run(params({ awsSecretKey: '' })))).message).toBe('awsSecretKey is required');
      expect((await failure(run(params({ awsRegion: 'evil.com/x' })))).message).toBe(
        'awsRegion is not a valid AWS region',
      );
      expect((await failure(run(params({ sesVersion: 'v9' })))).message).toBe('sesVersion must be v1 or v2');
      expect(seen).toHaveLength(0);
    });

    it('turns an error status into a node error without params', async () => {
      reply = { status: 400, body: '{"message":"Email address is not verified"}' };
      const err = await failure(run(params()));
      expect(err.message).toBe('Amazon SES responded 400');
    });
  });
});
