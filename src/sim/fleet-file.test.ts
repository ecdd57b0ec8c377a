import { describe, expect, it } from 'vitest';
import { fleetFromFile, readFleetFile } from './fleet-file.js';

const GI = 2 ** 30;

describe('fleet.json', () => {
  it('reads into the scheduler model, sizes parsed and defaults filled', () => {
    const file = readFleetFile({
      hosts: [{ id: 'h1', region: 'eu', memory: '16Gi', reserved: '1Gi', safety_buffer: 536870912, cores: 4 }],
      instances: [{ id: 'i', service: 'web', host: 'h1', memory: '512Mi', cpu: '0.25', region: 'eu' }],
    });
    expect(fleetFromFile(file)).toEqual({
      clusters: [{ name: 'default' }],
      hosts: [
        { id: 'h1', name: 'h1', region: 'eu', labels: {}, state: 'schedulable', memory: { physical: 16 * GI, reserved: GI, safetyBuffer: GI / 2 }, cores: 4 },
      ],
      volumes: [],
      instances: [{ id: 'i', service: 'web', host: 'h1', resources: { memory: GI / 2, cpu: 250 }, placement: { region: 'eu' } }],
    });
  });

  it('names the field, the value and the fix', () => {
    expect(() => readFleetFile({ hosts: [{ id: 'h1', region: 'eu', memory: '16GB', cores: 4 }] })).toThrow(
      'fleet.json hosts[0].memory: "16GB" is not a size; write 16Gi (binary) or 16G (decimal)',
    );
    const host = { id: 'a', region: 'eu', memory: '1Gi', cores: 1 };
    expect(() => readFleetFile({ hosts: [host, host] })).toThrow('fleet.json hosts[1].id: "a" appears twice; host ids must be unique');
    expect(() => readFleetFile({ hosts: [{ ...host, state: 'asleep' }] }, 'f.json')).toThrow(/^f\.json hosts\[0\]\.state: /);
  });

  it('says what is missing or mistyped in its own words, with the shape to write', () => {
    const problems = (json: unknown): string => {
      try {
        readFleetFile(json);
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(problems({})).toBe('fleet.json hosts: missing; add "hosts": [{ "id": "h1", "region": "eu", "memory": "64Gi", "cores": 16 }]');
    expect(problems({ hosts: [{ id: 'h1', region: 'eu', memory: true, cores: '4', state: 'cordonned' }] }).split('\n')).toEqual([
      'fleet.json hosts[0].state: "cordonned" is not one of schedulable, cordoned, draining, lost, decommissioned; did you mean cordoned?',
      'fleet.json hosts[0].memory: expected a string or a number, got true; write e.g. "memory": "64Gi"',
      'fleet.json hosts[0].cores: expected a number, got "4"; write e.g. "cores": 16',
    ]);
  });
});
