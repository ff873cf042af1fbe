import * as fs from 'node:fs';
import { buildOpenApiDocument } from '../src/common/http/configure-app';
import { openApiJson, OPENAPI_FILE } from '../scripts/openapi-file';
import { createTestApp, TestApp } from './utils/app';

/** The drift check CI runs: openapi.json must be what the code documents (`npm run openapi` rewrites it). */
describe('openapi.json', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ RUNLOOM_ROLES: 'api' });
  });
  afterAll(() => t.close());

  it('is what the code documents: run `npm run openapi` and commit the result when this fails', () => {
    const fromCode = openApiJson(buildOpenApiDocument(t.app));
    const checkedIn = fs.readFileSync(OPENAPI_FILE, 'utf8');
    if (fromCode !== checkedIn) {
      // Name the first differing path instead of dumping 180 KB.
      const code = JSON.parse(fromCode) as { paths: Record<string, unknown> };
      const file = JSON.parse(checkedIn) as { paths: Record<string, unknown> };
      const paths = new Set([...Object.keys(code.paths), ...Object.keys(file.paths)]);
      const differing = [...paths].filter((p) => JSON.stringify(code.paths[p]) !== JSON.stringify(file.paths[p]));
      expect({ differingPaths: differing, rest: differing.length ? 'see paths' : 'components or info differ' }).toEqual(
        {
          differingPaths: [],
          rest: 'see paths',
        },
      );
    }
    expect(fromCode).toBe(checkedIn);
  });

  it('documents every route with its error responses in the envelope', () => {
    const doc = JSON.parse(fs.readFileSync(OPENAPI_FILE, 'utf8')) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    const operations = Object.values(doc.paths).flatMap((ops) => Object.values(ops));
    expect(operations.length).toBeGreaterThan(60);
    for (const op of operations) expect(Object.keys(op.responses).length).toBeGreaterThan(0);
  });

  // What client generators need (test/openapi-client.e2e-spec.ts builds one): a bare `type: object`
  // becomes `Record<string, never>`, a default on an optional field makes it required.
  it('gives every operation a summary and every schema a shape a client generator can use', () => {
    const doc = JSON.parse(fs.readFileSync(OPENAPI_FILE, 'utf8')) as OpenApiDoc;
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, op })),
    );
    expect(operations.filter(({ op }) => !op.summary?.trim()).map(({ name }) => name)).toEqual([]);

    const problems: string[] = [];
    walkSchemas(doc, (schema, where) => {
      if (
        schema.type === 'object' &&
        !schema.properties &&
        schema.additionalProperties === undefined &&
        !composed(schema)
      )
        problems.push(`${where}: object with no properties and no additionalProperties`);
      for (const [name, property] of Object.entries(schema.properties ?? {})) {
        const resolved = resolve(doc, property);
        if (/^(id|.*_id)$/.test(name) && resolved.type !== 'string')
          problems.push(`${where}.${name}: an id that is not a string`);
        if (property.default !== undefined && !schema.required?.includes(name))
          problems.push(`${where}.${name}: optional with a default`);
      }
      if (schema.example !== undefined) problems.push(...misfits(doc, schema, schema.example, `${where} example`));
    });
    expect(problems).toEqual([]);
  });
});

interface Schema {
  type?: string;
  $ref?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
  required?: string[];
  nullable?: boolean;
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
  enum?: unknown[];
  default?: unknown;
  example?: unknown;
}

interface OpenApiDoc {
  paths: Record<string, Record<string, { summary?: string }>>;
  components: { schemas: Record<string, Schema> };
}

const composed = (s: Schema) => !!(s.$ref || s.allOf || s.oneOf || s.anyOf);

/** Calls `visit` on every schema object in the document (anything with a type, properties or a composition). */
function walkSchemas(node: unknown, visit: (schema: Schema, where: string) => void, where = '#'): void {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) return node.forEach((item, i) => walkSchemas(item, visit, `${where}[${i}]`));
  const schema = node as Schema;
  if (typeof schema.type === 'string' || schema.properties || composed(schema)) visit(schema, where);
  for (const [key, value] of Object.entries(node)) if (key !== 'example') walkSchemas(value, visit, `${where}.${key}`);
}

/** Follows `$ref`s and single-entry `allOf`s (how @nestjs/swagger writes a described or nullable reference). */
function resolve(doc: OpenApiDoc, schema: Schema): Schema {
  let s = schema;
  for (;;) {
    if (s.$ref) s = { ...doc.components.schemas[s.$ref.split('/').pop()!], nullable: s.nullable };
    else if (s.allOf?.length === 1 && !s.properties) s = { ...s.allOf[0], nullable: s.nullable };
    else return s;
  }
}

/** Where an example contradicts its schema: a wrong JSON type, a value outside an enum, an undeclared key. */
function misfits(doc: OpenApiDoc, schema: Schema, value: unknown, where: string): string[] {
  const s = resolve(doc, schema);
  if (value === null) return s.nullable ? [] : [`${where}: null, not nullable`];
  const alternatives = s.oneOf ?? s.anyOf;
  if (alternatives)
    return alternatives.some((alt) => misfits(doc, alt, value, where).length === 0)
      ? []
      : [`${where}: fits none of its alternatives`];
  if (s.enum && !s.enum.includes(value)) return [`${where}: ${JSON.stringify(value)} is not in the enum`];
  const actual = Array.isArray(value) ? 'array' : typeof value;
  const expected = s.type === 'integer' ? 'number' : s.type;
  if (expected && expected !== actual) return [`${where}: ${actual}, expected ${expected}`];
  if (Array.isArray(value))
    return value.flatMap((item, i) => (s.items ? misfits(doc, s.items, item, `${where}[${i}]`) : []));
  if (actual !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, item]) => {
    const property =
      s.properties?.[key] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
    if (property) return misfits(doc, property, item, `${where}.${key}`);
    return s.additionalProperties ? [] : [`${where}: ${key} is not a declared property`];
  });
}
