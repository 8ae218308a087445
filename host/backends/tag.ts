// "Does the board already hold these weights?" without a read-back command: the host keeps
// a tag tile in the weight memory's last tile, the trits of a digest of (board identity,
// placement, weights), written after an upload completes and overwritten before the next
// one starts. It reads the tile back through MATMUL itself: token t carries 1, 3, 9, 27, 81
// on lanes d*t .. d*t+d-1 (d = 5 for int8, 2 for int4), so each result is a balanced-ternary
// number whose digits are the weights on those lanes.

import { createHash } from 'node:crypto';
import type { CoreShape } from '../../common/core-layout.ts';
import type { IntMatrix } from '../../common/reference.ts';

/** The tag's trits as a cols x rows weight matrix (N = cols outputs, K = rows inputs). */
export function tagMatrix(s: CoreShape, digest: Uint8Array): IntMatrix {
  const n = s.rows * s.cols;
  const data = new Int8Array(n);
  const stream: number[] = [];
  for (let ctr = 0; stream.length < n; ctr++) stream.push(...createHash('sha256').update(digest).update(String(ctr)).digest());
  for (let i = 0; i < n; i++) data[i] = (stream[i]! % 3) - 1;
  return { rows: s.cols, cols: s.rows, data };
}

/** An all-zero tile: what the tag tile holds while an upload is under way. */
export const blankTag = (s: CoreShape): IntMatrix => ({ rows: s.cols, cols: s.rows, data: new Int8Array(s.rows * s.cols) });

/** Digits per token and the probe activations (M x rows) that read a tile back. */
export function tagProbe(s: CoreShape): { x: IntMatrix; digits: number } {
  const max = 2 ** (s.act - 1) - 1;
  let digits = 0;
  while (3 ** digits <= max) digits++;
  const M = Math.ceil(s.rows / digits);
  const data = new Int8Array(M * s.rows);
  for (let r = 0; r < s.rows; r++) data[Math.floor(r / digits) * s.rows + r] = 3 ** (r % digits);
  return { x: { rows: M, cols: s.rows, data }, digits };
}

/** The tile's weights (cols x rows) from the probe's results y (M x cols). */
export function decodeProbe(s: CoreShape, y: Int32Array, digits: number): IntMatrix {
  const M = Math.ceil(s.rows / digits);
  const data = new Int8Array(s.rows * s.cols);
  for (let t = 0; t < M; t++) {
    for (let c = 0; c < s.cols; c++) {
      let v = y[t * s.cols + c]!;
      for (let j = 0; j < digits && t * digits + j < s.rows; j++) {
        const r = ((v % 3) + 3) % 3;
        const trit = r === 2 ? -1 : r;
        data[c * s.rows + t * digits + j] = trit;
        v = (v - trit) / 3;
      }
    }
  }
  return { rows: s.cols, cols: s.rows, data };
}

export const sameMatrix = (a: IntMatrix, b: IntMatrix): boolean => a.rows === b.rows && a.cols === b.cols && a.data.every((v, i) => v === b.data[i]);
