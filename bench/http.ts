/** What the benchmark scripts share to talk to a Runloom server they started. */

/** A JSON call; anything but 2xx throws with the answer. The body is parsed JSON, untyped. */
export async function api(base: string, method: string, p: string, body?: unknown, token?: string) {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p} → ${res.status} ${text}`);
  return { res, body: text ? JSON.parse(text) : null };
}

/** Signs a new user up and logs in; returns the session token (usable as a bearer token). */
export async function signUpAndLogIn(base: string, email: string): Promise<string> {
  const password = 'bench-password-1';
  await api(base, 'POST', '/api/auth/signup', {
    first_name: 'Bench',
    last_name: 'Mark',
    email,
    password,
    accepted_terms_version: '1',
  });
  const login = await api(base, 'POST', '/api/auth/login', { email, password });
  return /dsentr_session=([^;]+)/.exec(login.res.headers.get('set-cookie') ?? '')![1];
}
