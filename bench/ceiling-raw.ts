/** Ceiling for the benchmark: a raw node:http JSON handler (what no framework can beat). */
import * as http from 'node:http';

const body = JSON.stringify({ success: true, hello: 'world' });
http
  .createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  })
  .listen(Number(process.env.PORT), '127.0.0.1', () => console.log('ready'));
