// The message a results mismatch fails with: the first differing result, where it is in the
// M x N output, both values and their neighbours, so a failing gate-level run says what went
// wrong without a dump of two arrays.

import { describeDiff } from '../../sim/index.ts';

/** `result [i] (m=…, n=…): expected e, got g; expected [… …], got [… …]` for the first result that differs, or undefined when they agree. */
export function firstDifference(expected: Int32Array, got: Int32Array, N: number): string | undefined {
  const i = expected.findIndex((e, k) => got[k] !== e);
  if (i < 0 && got.length === expected.length) return undefined;
  if (i < 0) return `${got.length} results, expected ${expected.length} (the first ${expected.length} agree)`;
  // describeDiff says "first difference at index i: …"; the index is named here with its row and column.
  return `result [${i}] (m=${Math.floor(i / N)}, n=${i % N}): ${describeDiff(Array.from(expected), Array.from(got)).replace(/^first difference at index \d+: /, '')}`;
}
