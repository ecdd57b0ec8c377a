// `npm run schema`: writes schema/berth.schema.json from the zod source; a test fails while the
// checked-in copy differs, so run this after changing src/spec.
import { writeFile } from 'node:fs/promises';
import { berthJsonSchemaText } from '../spec/json-schema.js';

const target = new URL('../../schema/berth.schema.json', import.meta.url);
await writeFile(target, berthJsonSchemaText());
process.stdout.write(`wrote ${target.pathname}\n`);
