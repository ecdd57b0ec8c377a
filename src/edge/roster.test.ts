import v8 from 'node:v8';
import vm from 'node:vm';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { Roster } from './roster.js';

interface Member {
  readonly id: number;
  connectionSlot: number;
  attachmentSlot: number;
}
const member = (id: number): Member => ({ id, connectionSlot: -1, attachmentSlot: -1 });

it('holds the same members as a Set through any mix of adds, deletes and clears (property)', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.tuple(fc.constantFrom('add', 'delete'), fc.integer({ min: 0, max: 15 })), fc.constant(['clear', 0] as const)), { maxLength: 200 }), (ops) => {
      const members = Array.from({ length: 16 }, (_, id) => member(id));
      const roster = new Roster<'connectionSlot', Member>('connectionSlot');
      const model = new Set<Member>();
      for (const [op, id] of ops) {
        const item = members[id]!;
        if (op === 'add') {
          roster.add(item);
          model.add(item);
        } else if (op === 'delete') expect(roster.delete(item)).toBe(model.delete(item));
        else {
          roster.clear();
          model.clear();
        }
        expect(roster.size).toBe(model.size);
        expect(new Set(roster.snapshot())).toEqual(model);
        for (const m of members) {
          expect(roster.has(m)).toBe(model.has(m));
          if (!model.has(m)) expect(m.connectionSlot).toBe(-1);
        }
      }
    }),
    { numRuns: 300 },
  );
});

it('lets a member be in one roster of each kind, and refuses a second roster of the same kind', () => {
  const proxy = new Roster<'connectionSlot', Member>('connectionSlot');
  const instanceA = new Roster<'attachmentSlot', Member>('attachmentSlot');
  const instanceB = new Roster<'attachmentSlot', Member>('attachmentSlot');
  const m = member(1);
  proxy.add(m);
  instanceA.add(m);
  expect(proxy.has(m) && instanceA.has(m)).toBe(true);
  expect(() => instanceB.add(m)).toThrow(/already in another roster by attachmentSlot/);
  // deleting from a roster it is not in changes nothing
  expect(instanceB.delete(m)).toBe(false);
  expect(instanceA.has(m)).toBe(true);
  instanceA.delete(m);
  instanceB.add(m);
  expect(instanceB.has(m) && !instanceA.has(m) && proxy.has(m)).toBe(true);
});

it('gives a snapshot that members can leave while it is walked', () => {
  const roster = new Roster<'connectionSlot', Member>('connectionSlot');
  const members = Array.from({ length: 10 }, (_, id) => member(id));
  for (const m of members) roster.add(m);
  const seen: number[] = [];
  for (const m of roster.snapshot()) {
    seen.push(m.id);
    roster.delete(m);
    if (m.id === 3) roster.delete(members[9]!);
  }
  expect(seen.sort((a, b) => a - b)).toEqual(members.map((m) => m.id));
  expect(roster.size).toBe(0);
});

it('does not keep members it let go through young-generation collections (a Set does, until a full one)', () => {
  // the edge's case: ~50 open connections at a time, one joining and one leaving per request
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as (options?: { type: 'minor' | 'major' }) => void;
  const oldSpace = () => v8.getHeapSpaceStatistics().find((space) => space.space_name === 'old_space')!.space_used_size;
  const roster = new Roster<'connectionSlot', Member & { payload: number[] }>('connectionSlot');
  const open: (Member & { payload: number[] })[] = [];
  gc({ type: 'major' });
  const before = oldSpace();
  for (let i = 0; i < 100_000; i++) {
    const connection = { ...member(i), payload: new Array<number>(256).fill(i) };
    roster.add(connection);
    open.push(connection);
    if (open.length > 50) roster.delete(open.shift()!);
    if (i % 5_000 === 0) gc({ type: 'minor' });
  }
  // 100,000 members of ~2 KB: a Set promoted 30-80 MB of them here; only the 50 open ones may be
  const grewMb = (oldSpace() - before) / 1e6;
  expect(grewMb).toBeLessThan(8);
});
