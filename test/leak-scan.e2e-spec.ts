import { Controller, Get, Res } from '@nestjs/common';
import type { HttpReply } from '../src/common/http/http';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { Public } from '../src/common/auth/decorators';
import { WorkflowEntity } from '../src/database/entities/workflow.entity';
import { createTestApp, TestApp } from './utils/app';
import { actor, createWorkflow, simpleGraph } from './factories/workflow.factory';

const CANARY = 'canary-secret-0123456789';

/** Test-only route that streams a value in two chunks, the way an SSE frame is written. */
@Controller('test-only')
class EchoController {
  @Public()
  @Get('echo')
  echo(@Res() reply: HttpReply): void {
    reply.hijack();
    const res = reply.raw;
    res.setHeader('content-type', 'text/event-stream');
    res.write(`data: {"token":"${CANARY.slice(0, 10)}`);
    res.end(`${CANARY.slice(10)}"}\n\n`);
  }
}

/** The suite-wide scan (test/utils/leak-scan.ts) must find a planted secret wherever it is put. */
describe('the secret leak scan', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({}, { controllers: [EchoController] });
  });
  afterAll(() => t.close({ scan: false }));

  it('knows nothing leaked before anything is planted', async () => {
    const a = await actor(t.url);
    await request(t.url).put('/api/options/secrets/http/bearer_token/canary').set(a.auth).send({ value: CANARY });
    expect((await t.scanForLeaks()).hits).toEqual([]);
  });

  it('finds a stored secret in a streamed response, a log line and a database cell', async () => {
    const a = await actor(t.url);
    const wf = await createWorkflow(t.url, a, simpleGraph());
    await request(t.url).get('/test-only/echo').expect(200);
    t.logs.push(JSON.stringify({ level: 30, msg: `calling with ${CANARY}` }));
    await t.app
      .get(DataSource)
      .getRepository(WorkflowEntity)
      .update(wf.id, { description: `x ${CANARY}` });

    const report = await t.scanForLeaks();
    expect(report.hits.map((h) => h.split(' ')[0]).sort()).toEqual(['db', 'log', 'response']);
    expect(report.hits.find((h) => h.startsWith('response'))).toContain('GET /test-only/echo → 200');
    // The report names where, never the value.
    expect(report.hits.join('\n')).not.toContain(CANARY);
  });
});
