import { expect, it } from 'vitest';
import { ValidationError } from '../core/errors.js';
import { parseLabels } from './agent.js';

it('reads --labels as key=value pairs and names the fix for anything else', () => {
  expect(parseLabels('zone=a, disk=ssd')).toEqual({ zone: 'a', disk: 'ssd' });
  expect(parseLabels(undefined)).toEqual({});
  expect(parseLabels('empty=')).toEqual({ empty: '' });
  expect(() => parseLabels('zone')).toThrow(ValidationError);
  expect(() => parseLabels('=a')).toThrow(/--labels: "=a" is not key=value; write e.g. --labels zone=a,disk=ssd/);
});
