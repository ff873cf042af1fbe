/** Mailgun messages API (US or EU endpoint), through the egress client. */
import { NodeError } from '../../node-types';
import {
  call,
  DOMAIN,
  jsonField,
  recipients,
  required,
  requireContent,
  sender,
  trimSlash,
  variables,
  type Delivery,
} from './shared';

export async function sendMailgun(
  s: Delivery,
  endpoints: { baseUrl: string; euBaseUrl: string },
): Promise<Record<string, unknown>> {
  const { params, ctx } = s;
  const domain = required(params, 'domain').trim().toLowerCase();
  if (!DOMAIN.test(domain)) throw new NodeError('Mailgun domain is not a valid domain name');
  const apiKey = required(params, 'apiKey').trim();
  const from = sender(required(params, 'from'));
  const to = recipients(params.to);
  const template = (params.template ?? '').trim();
  if (template === '') requireContent(s);

  const form = new URLSearchParams();
  form.append('from', from.text);
  for (const address of to) form.append('to', address);
  if (s.subject !== '') form.append('subject', s.subject);
  if (s.body !== '') form.append('text', s.body);
  if (template !== '') {
    form.append('template', template);
    form.append('h:X-Mailgun-Variables', JSON.stringify(variables(params.variables, ctx.context)));
  }

  const eu = (params.region ?? '').toLowerCase().includes('eu');
  const base = trimSlash(eu ? endpoints.euBaseUrl : endpoints.baseUrl);
  const response = await call(s, 'Mailgun', {
    method: 'POST',
    url: `${base}/v3/${domain}/messages`,
    headers: {
      Authorization: `Basic ${Buffer.from(`api:${apiKey}`, 'utf8').toString('base64')}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: form.toString(),
  });
  const id = jsonField(response.body.toString('utf8'), 'id');
  return {
    sent: true,
    service: 'Mailgun',
    status: response.status,
    message_id: typeof id === 'string' ? id : null,
  };
}
