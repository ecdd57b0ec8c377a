// The OpenAPI 3.1 document of /v1/openapi.json, generated from the routes' RouteDocs.
import { z } from 'zod';
import { errorBodySchema } from './protocol/error-body.js';
import type { RouteDoc } from './route-doc.js';

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output'): unknown =>
  // health probes and stop settings are typed in TypeScript only (z.custom): shown as any value
  z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' });

function parameters(doc: RouteDoc): unknown[] {
  const inPath = [...doc.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
  const query = doc.query ? (jsonSchema(doc.query, 'input') as { properties?: Record<string, unknown>; required?: string[] }) : undefined;
  const inQuery = Object.entries(query?.properties ?? {}).map(([name, schema]) => ({
    name,
    in: 'query',
    required: query?.required?.includes(name) ?? false,
    schema,
  }));
  return [...inPath, ...inQuery];
}

export function openApiDocument(docs: readonly RouteDoc[], version: string): object {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const doc of docs) {
    const status = String(doc.status ?? 200);
    const success = doc.response
      ? { description: 'OK', content: { 'application/json': { schema: jsonSchema(doc.response, 'output') } } }
      : doc.rawResponse
        ? { description: 'OK', content: { [doc.rawResponse]: {} } }
        : { description: 'OK' };
    const error = { content: { 'application/json': { schema: jsonSchema(errorBodySchema, 'output') } } };
    (paths[doc.path] ??= {})[doc.method] = {
      summary: doc.summary,
      ...(doc.scopes === 'none' ? { security: [] } : { security: [{ bearer: [] }], 'x-berth-scopes': doc.scopes }),
      parameters: parameters(doc),
      ...(doc.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(doc.body, 'input') } } } } : {}),
      ...(doc.rawBody ? { requestBody: { required: true, content: { [doc.rawBody]: {} } } } : {}),
      responses: {
        [status]: success,
        ...(doc.body || doc.query || doc.path.includes('{') ? { '400': { description: 'bad input: names the field and the fix', ...error } } : {}),
        ...(doc.scopes === 'none' ? {} : { '401': { description: 'no valid token', ...error }, '403': { description: 'wrong scope', ...error } }),
        default: { description: 'error', ...error },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'berth API', version, description: 'The berth control plane. Errors are { "error": { code, message, details } }.' },
    servers: [{ url: '/' }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}
