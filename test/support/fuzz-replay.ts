// Re-run a fuzz reproducer: npx tsx test/support/fuzz-replay.ts DIR [CYCLES]
import { replay } from './fuzz.ts';
import { describeMismatch } from '../../sim/equiv/harness.ts';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: npx tsx test/support/fuzz-replay.ts DIR [CYCLES]');
  process.exit(2);
}
const seed = Number(/seed(\d+)/.exec(dir)?.[1] ?? process.env.SEED ?? 1);
const mismatches = await replay(dir, Number(process.argv[3] ?? 60), seed);
for (const m of mismatches) console.log(describeMismatch(m));
console.log(mismatches.length ? 'still disagrees' : 'all three simulators agree');
process.exitCode = mismatches.length ? 1 : 0;
