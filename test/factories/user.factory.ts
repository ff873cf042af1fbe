import { randomBytes } from 'node:crypto';
import request from 'supertest';
import TestAgent from 'supertest/lib/agent';

let counter = 0;

export interface SignupBody {
  first_name: string;
  last_name: string;
  email: string;
  password: string;
  company_name?: string;
  accepted_terms_version: string;
  settings?: Record<string, unknown>;
}

export function signupBody(overrides: Partial<SignupBody> = {}): SignupBody {
  counter += 1;
  return {
    first_name: 'Ada',
    last_name: 'Lovelace',
    email: `ada.${counter}.${randomBytes(3).toString('hex')}@example.com`,
    password: 'purple monkey dishwasher 42',
    accepted_terms_version: '2025-01',
    ...overrides,
  };
}

/** A logged-in browser: cookie jar with `dsentr_session` + `csrf_token`, and the CSRF header value. */
export interface Browser {
  agent: TestAgent;
  csrf: string;
  user: { id: string; email: string };
  body: Record<string, unknown>;
}

/** Does what the DSentr client does: fetch a CSRF token, sign up, log in with cookies. */
export async function signupAndLogin(url: string, overrides: Partial<SignupBody> = {}): Promise<Browser> {
  const agent = request.agent(url);
  const csrf = (await agent.get('/api/auth/csrf-token').expect(200)).text;
  const body = signupBody(overrides);
  await agent.post('/api/auth/signup').set('x-csrf-token', csrf).send(body).expect(201);
  const login = await agent
    .post('/api/auth/login')
    .set('x-csrf-token', csrf)
    .send({ email: body.email, password: body.password, remember: false })
    .expect(200);
  return { agent, csrf, user: login.body.user, body: login.body };
}

/** A session token for `Authorization: Bearer` use (from the login cookie). */
export async function bearerToken(
  url: string,
  overrides: Partial<SignupBody> = {},
): Promise<{ token: string; userId: string }> {
  const body = signupBody(overrides);
  await request(url).post('/api/auth/signup').send(body).expect(201);
  const login = await request(url)
    .post('/api/auth/login')
    .send({ email: body.email, password: body.password })
    .expect(200);
  const cookie = ([] as string[])
    .concat(login.headers['set-cookie'] ?? [])
    .find((c) => c.startsWith('dsentr_session='));
  return { token: cookie!.split(';')[0].split('=')[1], userId: login.body.user.id };
}
