/** SendGrid v3 mail send, through the egress client. */
import { call, recipients, required, requireContent, sender, trimSlash, variables, type Delivery } from './shared';

export async function sendSendgrid(s: Delivery, baseUrl: string): Promise<Record<string, unknown>> {
  const { params, ctx } = s;
  const apiKey = required(params, 'apiKey').trim();
  const from = sender(required(params, 'from'));
  const to = recipients(params.to);
  const templateId = (params.templateId ?? '').trim();
  if (templateId === '') requireContent(s);

  const personalization: Record<string, unknown> = { to: to.map((email) => ({ email })) };
  if (templateId !== '') personalization.dynamic_template_data = variables(params.substitutions, ctx.context);
  const payload: Record<string, unknown> = {
    personalizations: [personalization],
    from: from.name ? { email: from.email, name: from.name } : { email: from.email },
  };
  if (templateId !== '') payload.template_id = templateId;
  if (s.subject !== '') payload.subject = s.subject;
  if (s.body !== '') payload.content = [{ type: 'text/plain', value: s.body }];

  const response = await call(s, 'SendGrid', {
    method: 'POST',
    url: `${trimSlash(baseUrl)}/v3/mail/send`,
    headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(payload),
  });
  return {
    sent: true,
    service: 'SendGrid',
    status: response.status,
    message_id: response.headers['x-message-id'] ?? null,
  };
}
