import { describe, expect, it } from 'vitest';
import { fold } from './decider.js';
import { decideTenant, tenantDecider } from './tenant.js';

describe('tenant secrets', () => {
  it('records a set once per version and a delete only of what exists', () => {
    const state = fold(tenantDecider, [{ type: 'SecretSet', data: { name: 'web/API_KEY', version: 2 } }]);
    expect(decideTenant({ type: 'RecordSecretSet', name: 'web/API_KEY', version: 2 }, state)).toEqual({ ok: true, value: [] });
    expect(decideTenant({ type: 'RecordSecretSet', name: 'web/API_KEY', version: 3 }, state)).toEqual({ ok: true, value: [{ type: 'SecretSet', data: { name: 'web/API_KEY', version: 3 } }] });
    expect(decideTenant({ type: 'RecordSecretDeleted', name: 'web/OTHER' }, state)).toEqual({ ok: true, value: [] });
    expect(decideTenant({ type: 'RecordSecretDeleted', name: 'web/API_KEY' }, state)).toEqual({ ok: true, value: [{ type: 'SecretDeleted', data: { name: 'web/API_KEY' } }] });
    expect(decideTenant({ type: 'RecordSecretSet', name: 'x', version: 0 }, state).ok).toBe(false);
  });
});
