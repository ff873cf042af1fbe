import * as path from 'node:path';

/** Where the checked-in OpenAPI document lives (the repository root). */
export const OPENAPI_FILE = path.join(__dirname, '..', 'openapi.json');

/** The document as checked in: two-space JSON with a final newline, so a diff shows one change per line. */
export function openApiJson(document: unknown): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
