// The JSON Schema of berth.yaml as a user writes it (quantities as text, defaults optional), so
// editors complete and check the file; generated from the zod source and checked in.
import { z } from 'zod';
import { berthFileSchema } from './berth-file.js';

export const SCHEMA_ID = 'https://berth.dev/schema/berth.schema.json';

export function berthJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(berthFileSchema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' });
  return { ...schema, $id: SCHEMA_ID, title: 'berth.yaml', description: 'Services deployed by berth; see docs/berth-yaml.md' };
}

/** The checked-in text: stable key order from the schema itself, two-space indent, final newline. */
export function berthJsonSchemaText(): string {
  return `${JSON.stringify(berthJsonSchema(), null, 2)}\n`;
}
