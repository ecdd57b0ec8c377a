// Every map in berth.yaml rejects fields it does not know, naming the closest known one: a
// misspelt optional field would otherwise be dropped without a word and its default used.
import { z } from 'zod';
import { didYouMean } from './did-you-mean.js';

/** The problem and fix for one unknown field, given the fields its map knows. */
export function unknownFieldMessage(field: string, known: readonly string[]): string {
  const guess = didYouMean(field, known);
  if (guess !== undefined) return `unknown field; did you mean "${guess}"?`;
  return `unknown field; remove it or use one of: ${known.join(', ')}`;
}

/**
 * `z.strictObject` whose unknown-key issue carries one message line per key, in the order of
 * `issue.keys`; spec issues are split per key from those lines (see spec-issue.ts). `hints`
 * gives the whole message for keys users are known to misplace.
 */
export function strictObject<const Shape extends z.core.$ZodLooseShape>(shape: Shape, hints: Readonly<Record<string, string>> = {}) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => (Object.hasOwn(hints, key) ? hints[key]! : unknownFieldMessage(key, known))).join('\n')
        : undefined,
  });
}
