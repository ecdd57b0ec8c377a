// A volume lives on one host; an instance that mounts it is placed there (DESIGN §4).
import { z } from 'zod';
import { dnsLabel } from './names.js';
import { size } from './quantities.js';
import { strictObject } from './strict-object.js';

export const DEFAULT_VOLUME_SIZE = '1Gi';

export interface VolumeSpec {
  readonly name: string;
  /** absolute path inside the instance */
  readonly mount: string;
  /** bytes */
  readonly size: number;
}

export const volumeSchema = strictObject({
  name: dnsLabel('volume'),
  mount: z.string().check((ctx) => {
    const path = ctx.value;
    if (!path.startsWith('/')) {
      ctx.issues.push({ code: 'custom', message: `"${path}" is not an absolute path; write e.g. /${path.replace(/^\.?\/*/, '') || 'data'}`, input: path });
    } else if (path.split('/').includes('..')) {
      ctx.issues.push({ code: 'custom', message: `"${path}" climbs out with ".."; write the path without it`, input: path });
    }
  }),
  size: size().prefault(DEFAULT_VOLUME_SIZE),
});
