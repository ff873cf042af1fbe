import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { HttpReply } from '../common/http/http';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Public } from '../common/auth/decorators';
import { ApiErrors } from '../common/http/openapi';
import { AppError, ErrorCode } from '../common/errors/app-error';

/** The page's files, read once: copied next to the compiled code by `nest build` (nest-cli.json assets). */
const STATIC_DIR = path.join(__dirname, 'static');
const TYPES: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

/**
 * `/monitor`: a live run page served by the app (static files, no build step). It signs in with
 * the session cookie and watches runs through the same SSE endpoints as the web client.
 */
@ApiTags('monitor')
@Public()
@Controller('monitor')
export class MonitorController {
  private readonly files = new Map<string, Buffer>(
    ['index.html', ...Object.keys(TYPES)].map((name) => [name, fs.readFileSync(path.join(STATIC_DIR, name))]),
  );

  @Get()
  @ApiOkResponse({ description: 'The live run page (HTML).', content: { 'text/html': { schema: { type: 'string' } } } })
  @ApiOperation({ summary: 'Live run monitor page' })
  page(@Res() res: HttpReply): void {
    void res
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .send(this.files.get('index.html'));
  }

  @Get(':file')
  @ApiOkResponse({
    description: 'The page’s script (`app.js`) or stylesheet (`app.css`).',
    content: { 'text/javascript': { schema: { type: 'string' } }, 'text/css': { schema: { type: 'string' } } },
  })
  @ApiErrors(404)
  @ApiOperation({ summary: 'Live run monitor script or stylesheet' })
  asset(@Param('file') file: string, @Res() res: HttpReply): void {
    const type = Object.prototype.hasOwnProperty.call(TYPES, file) ? TYPES[file] : undefined;
    if (!type) throw new AppError(ErrorCode.NotFound);
    void res.header('content-type', type).header('cache-control', 'no-cache').send(this.files.get(file));
  }
}
