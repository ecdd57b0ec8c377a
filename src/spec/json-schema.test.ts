import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { berthJsonSchema, berthJsonSchemaText } from './json-schema.js';

describe('berth.schema.json', () => {
  it('is up to date with the zod source (run `npm run schema` after changing src/spec)', () => {
    const checkedIn = readFileSync(new URL('../../schema/berth.schema.json', import.meta.url), 'utf8');
    expect(checkedIn).toBe(berthJsonSchemaText());
  });

  it('describes the file as written: quantities as text, defaults, closed maps', () => {
    const schema = berthJsonSchema() as {
      properties: { services: { propertyNames: { pattern: string }; additionalProperties: { properties: Record<string, unknown>; required: string[]; additionalProperties: boolean } } };
      $defs: Record<string, unknown>;
    };
    const service = schema.properties.services.additionalProperties;
    expect(schema.properties.services.propertyNames.pattern).toBe('^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$');
    expect(service.required).toEqual(['run']);
    expect(service.additionalProperties).toBe(false);
    expect(service.properties.resources).toMatchObject({ properties: { memory: { default: '256Mi', type: ['string', 'number'] } } });
    // an editor offers a TCP route only the affinity it can keep
    expect(service.properties.tcp).toMatchObject({ properties: { affinity: { const: 'ip' }, concurrency: { properties: { type: { const: 'connections' } } } } });
    // the PROXY protocol toward instances is a TCP route's; an HTTP route has X-Forwarded-For
    expect(service.properties.tcp).toMatchObject({ properties: { proxyProtocol: { enum: ['v1', 'v2'] } } });
    expect(service.properties.http).not.toHaveProperty('properties.proxyProtocol');
    expect(schema.$defs.HealthProbe).toMatchObject({ required: ['type'], properties: { interval: { default: '10s' } } });
  });
});
