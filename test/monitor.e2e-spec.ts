import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import request from 'supertest';
import { createTestApp, TestApp } from './utils/app';
import { TargetServer } from './utils/target-server';
import { signupBody } from './factories/user.factory';
import { graph, trigger } from './factories/workflow.factory';

/** Debian's chromium package (see README); without it this browser test cannot run here. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// A browser test of a page, independent of the database: once per CI run (the SQLite pass).
const run = fs.existsSync(CHROMIUM) && !process.env.TEST_DATABASE_URL ? describe : describe.skip;
jest.setTimeout(120_000);

const GREEN = [31, 157, 85];

/**
 * Issue 11 item 4: /monitor in headless Chromium. Sign in, pick a workflow, start a run; the page
 * shows it running and then green, with its node list and timeline, live through SSE; a screenshot
 * of the run's row is checked for the green.
 */
run('the live run page (/monitor) in headless Chromium', () => {
  let t: TestApp;
  let target: TargetServer;
  let browser: Browser;
  beforeAll(async () => {
    target = await new TargetServer().start();
    t = await createTestApp();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
    await target.stop();
    await t.close();
  });

  it('signs in, follows a run live until it turns green, with nodes and a timeline', async () => {
    const account = signupBody();
    await request(t.url).post('/api/auth/signup').send(account).expect(201);
    const login = await request(t.url)
      .post('/api/auth/login')
      .send({ email: account.email, password: account.password });
    const token = /dsentr_session=([^;]+)/.exec(String(login.headers['set-cookie']))![1];
    const auth = { Authorization: `Bearer ${token}` };
    const call = {
      id: 'call',
      type: 'actionHttp',
      data: { label: 'Call', actionType: 'http', params: { url: `${target.url}/hold/monitor`, method: 'GET' } },
    };
    const wf = (
      await request(t.url)
        .post('/api/workflows')
        .set(auth)
        .send({ name: 'Monitored flow', data: graph([trigger(), call], [['trigger-1', 'call']]) })
        .expect(201)
    ).body.workflow;

    const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      // The page asks /api/auth/me whether it is signed in: its first 401 is the answer, not a fault.
      if (message.type() === 'error' && !message.location().url.endsWith('/api/auth/me')) problems.push(message.text());
    });
    await page.goto(`${t.url}/monitor`);
    await page.fill('#email', account.email);
    await page.fill('#password', account.password);
    await page.click('#login button[type=submit]');
    await page.waitForSelector(`#workflow option[value="${wf.id}"]`, { state: 'attached' });
    expect(await page.textContent('#who')).toBe(account.email);
    await page.selectOption('#workflow', wf.id);
    await page.waitForSelector('#live.on');

    const started = (await request(t.url).post(`/api/workflows/${wf.id}/run`).set(auth).send({}).expect(202)).body.run;
    const row = `tr[data-run-id="${started.id}"]`;
    await page.waitForSelector(`${row}[data-status="running"]`);
    await page.waitForSelector('#nodes li[data-node-id="call"][data-status="running"]');
    target.release('monitor');
    await page.waitForSelector(`${row}[data-status="succeeded"]`);
    await page.waitForSelector('#nodes li[data-node-id="call"][data-status="succeeded"]');
    await page.waitForSelector('#timeline rect.bar.status-succeeded[data-node-id="call"]', { state: 'attached' });
    expect(await page.locator('#timeline rect.bar').count()).toBe(2);
    expect(await page.textContent('#run-status')).toBe('succeeded');

    // The screenshot: the row's status badge is green in the pixels, not only in the DOM.
    const shot = await page.screenshot({ fullPage: true });
    const file = path.join(os.tmpdir(), `runloom-monitor-${process.pid}.png`);
    fs.writeFileSync(file, shot);
    const badge = (await page.locator(`${row} .status`).boundingBox())!;
    // Decoded by the browser itself (no image library here): draw the PNG, read one pixel.
    const pixel = (await page.evaluate(`(async () => {
      const image = new Image();
      image.src = 'data:image/png;base64,${shot.toString('base64')}';
      await image.decode();
      const canvas = document.createElement('canvas');
      canvas.width = image.width;
      canvas.height = image.height;
      const context = canvas.getContext('2d');
      context.drawImage(image, 0, 0);
      return [...context.getImageData(${Math.round(badge.x + 3)}, ${Math.round(badge.y + badge.height / 2)}, 1, 1).data.slice(0, 3)];
    })()`)) as number[];
    expect(pixel.map((c, i) => Math.abs(c - GREEN[i]) <= 8)).toEqual([true, true, true]);
    expect(problems).toEqual([]);
    fs.rmSync(file, { force: true });
  });

  it('serves its files with the security headers, and 404s anything else', async () => {
    const page = await request(t.url)
      .get('/monitor')
      .expect(200)
      .expect('content-type', /text\/html/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    await request(t.url)
      .get('/monitor/app.js')
      .expect(200)
      .expect('content-type', /javascript/);
    await request(t.url)
      .get('/monitor/app.css')
      .expect(200)
      .expect('content-type', /text\/css/);
    const missing = await request(t.url).get('/monitor/..%2F..%2Fpackage.json').expect(404);
    expect(missing.body.code).toBe('not_found');
  });
});
