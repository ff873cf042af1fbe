/**
 * Amazon SES (v2 JSON API, or v1 query API), through the egress client. Only the SigV4 headers come
 * from `aws4`; the request itself still goes through `ctx.http`.
 */
import { RequestSigner } from 'aws4';
import type { OutboundRequest } from '../../../egress/outbound-http';
import { NodeError } from '../../node-types';
import {
  call,
  jsonField,
  recipients,
  required,
  requireContent,
  sender,
  trimSlash,
  variables,
  type Delivery,
} from './shared';

/** Interpolated into the SES host name, so only the AWS shape is accepted. */
const AWS_REGION = /^[a-z]{2}(?:-[a-z0-9]+)+-\d{1,2}$/;

export async function sendSes(s: Delivery, sesEndpoint: (region: string) => string): Promise<Record<string, unknown>> {
  const { params, ctx } = s;
  const accessKeyId = required(params, 'awsAccessKey').trim();
  const secretAccessKey = required(params, 'awsSecretKey').trim();
  const region = ((params.awsRegion ?? '').trim() || (params.region ?? '').trim()).toLowerCase();
  if (region === '') throw new NodeError('awsRegion is required');
  if (!AWS_REGION.test(region)) throw new NodeError('awsRegion is not a valid AWS region');
  const version = sesVersion(params.sesVersion);
  const fromRaw = (params.fromEmail ?? '').trim() || (params.from ?? '').trim();
  if (fromRaw === '') throw new NodeError('fromEmail is required');
  const from = sender(fromRaw);
  const to = recipients((params.to ?? '').trim() !== '' ? params.to : params.toEmail);
  const template = (params.template ?? '').trim();
  if (template === '') requireContent(s);
  const templateData = JSON.stringify(template === '' ? {} : variables(params.templateVariables, ctx.context));

  const endpoint = trimSlash(sesEndpoint(region));
  let request: Pick<OutboundRequest, 'method' | 'url' | 'headers' | 'body'>;
  if (version === 'v2') {
    const content =
      template !== ''
        ? { Template: { TemplateName: template, TemplateData: templateData } }
        : {
            Simple: {
              Subject: { Data: s.subject, Charset: 'UTF-8' },
              Body: { Text: { Data: s.body, Charset: 'UTF-8' } },
            },
          };
    request = {
      method: 'POST',
      url: `${endpoint}/v2/email/outbound-emails`,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ FromEmailAddress: from.text, Destination: { ToAddresses: to }, Content: content }),
    };
  } else {
    const form = new URLSearchParams();
    form.append('Action', template !== '' ? 'SendTemplatedEmail' : 'SendEmail');
    form.append('Version', '2010-12-01');
    form.append('Source', from.text);
    to.forEach((address, i) => form.append(`Destination.ToAddresses.member.${i + 1}`, address));
    if (template !== '') {
      form.append('Template', template);
      form.append('TemplateData', templateData);
    } else {
      form.append('Message.Subject.Data', s.subject);
      form.append('Message.Subject.Charset', 'UTF-8');
      form.append('Message.Body.Text.Data', s.body);
      form.append('Message.Body.Text.Charset', 'UTF-8');
    }
    request = {
      method: 'POST',
      url: `${endpoint}/`,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: form.toString(),
    };
  }
  request.headers = signAwsRequest(
    { method: request.method, url: request.url, headers: request.headers ?? {}, body: request.body ?? '' },
    { accessKeyId, secretAccessKey, region, service: 'ses' },
    ctx.now(),
  );

  const response = await call(s, 'Amazon SES', request);
  const text = response.body.toString('utf8');
  const messageId = version === 'v2' ? jsonField(text, 'MessageId') : /<MessageId>([^<]*)<\/MessageId>/.exec(text)?.[1];
  return {
    sent: true,
    service: 'Amazon SES',
    version,
    status: response.status,
    message_id: typeof messageId === 'string' ? messageId : null,
  };
}

function sesVersion(raw: string | undefined): 'v1' | 'v2' {
  const v = (raw ?? '').trim().toLowerCase();
  if (v === '' || v === 'v2') return 'v2';
  if (v === 'v1') return 'v1';
  throw new NodeError('sesVersion must be v1 or v2');
}

export interface AwsSigningRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | Buffer;
}

export interface AwsSigningScope {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  service: string;
}

/**
 * AWS Signature Version 4 by `aws4`. Returns `headers` plus `X-Amz-Date` and `Authorization`. Signed
 * headers are `host` (from the URL, as `fetch` will send it), `x-amz-date` and every header given,
 * lower-cased. `doNotModifyHeaders` keeps aws4 from adding (and signing) a `Content-Length` of its own,
 * which `fetch` may not send as given.
 */
export function signAwsRequest(req: AwsSigningRequest, scope: AwsSigningScope, now: Date): Record<string, string> {
  const url = new URL(req.url);
  const headers = withoutHeaders(req.headers, ['authorization']);
  const amzDate = now.toISOString().replace(/[-:]|\.\d{3}/g, '');
  const signer = new RequestSigner(
    {
      method: req.method.toUpperCase(),
      host: url.host,
      path: `${url.pathname}${url.search}`,
      headers: { ...withoutHeaders(headers, ['host', 'x-amz-date']), Host: url.host, 'X-Amz-Date': amzDate },
      body: req.body,
      service: scope.service,
      region: scope.region,
      doNotModifyHeaders: true,
    },
    { accessKeyId: scope.accessKeyId, secretAccessKey: scope.secretAccessKey },
  );
  // With `doNotModifyHeaders` aws4 would take the time from the clock, not from `X-Amz-Date`.
  signer.datetime = amzDate;
  const signed = signer.sign();
  return { ...headers, 'X-Amz-Date': amzDate, Authorization: String(signed.headers?.Authorization) };
}

function withoutHeaders(headers: Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([n]) => !names.includes(n.toLowerCase())));
}
