// Release archives by digest: `berth deploy` checks with HEAD and uploads with PUT only what the
// control plane lacks (unchanged code is not sent again); agents fetch through /v1/agent/artifacts.
import { Readable } from 'node:stream';
import type { ReadableStream as NodeWebStream } from 'node:stream/web';
import { Hono, type Context } from 'hono';
import type { ApiDeps } from '../api-deps.js';
import type { ApiEnv } from '../api-env.js';
import type { ArtifactStore } from '../artifact-store.js';
import { authenticate } from '../authenticate.js';
import type { RouteDoc } from '../route-doc.js';
import { z } from 'zod';
import { ValidationError } from '../../core/errors.js';

export const ARCHIVE_TYPE = 'application/gzip';

const storedSchema = z.object({ digest: z.string(), size: z.int(), created: z.boolean() });

export const artifactDocs: RouteDoc[] = [
  { method: 'put', path: '/v1/artifacts/{digest}', summary: 'Upload a release archive (tar.gz) under its sha256 digest', scopes: ['admin'], rawBody: ARCHIVE_TYPE, status: 201, response: storedSchema },
  { method: 'get', path: '/v1/artifacts/{digest}', summary: 'Download a release archive (HEAD: is it stored?)', scopes: ['admin'], rawResponse: ARCHIVE_TYPE },
];

/** The archive as a streamed response; HEAD gets the same headers without the body. */
export async function artifactResponse(artifacts: ArtifactStore, c: Context<ApiEnv>): Promise<Response> {
  const digest = c.req.param('digest') ?? '';
  const artifact = await artifacts.get(digest);
  const headers = { 'content-type': ARCHIVE_TYPE, 'content-length': String(artifact.size), 'x-berth-digest': digest, 'cache-control': 'public, max-age=31536000, immutable' };
  if (c.req.method === 'HEAD') return new Response(null, { headers });
  return new Response(Readable.toWeb(artifact.stream()) as ReadableStream, { headers });
}

export function artifactRoutes({ tokens, artifacts }: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.use('/artifacts/*', authenticate(tokens, 'admin'));
  app.put('/artifacts/:digest', async (c) => {
    const digest = c.req.param('digest');
    const body = c.req.raw.body;
    if (body === null) throw new ValidationError('body: empty; send the tar.gz archive whose sha256 is the digest');
    const { size, created } = await artifacts.put(digest, Readable.fromWeb(body as NodeWebStream<Uint8Array>));
    return c.json({ digest, size, created }, created ? 201 : 200);
  });
  app.get('/artifacts/:digest', (c) => artifactResponse(artifacts, c));
  return app;
}
