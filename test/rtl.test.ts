// The RTL checked in under rtl/ must be exactly what the generator emits today, and lint-clean.

import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHECKED_IN } from '../generator/cores/registry.ts';
import { compareCheckedIn } from '../generator/cores/checked-in.ts';
import { lintVerilog } from '../sim/toolchain/verilator.ts';

const RTL = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../rtl');

describe('checked-in RTL', () => {
  for (const entry of CHECKED_IN) {
    it(`rtl/${entry.dir} is up to date with the generator (else run: npx bitnet-fpga generate --all)`, () => {
      const diff = compareCheckedIn(RTL).find((d) => d.dir === entry.dir);
      assert.equal(diff, undefined, `rtl/${entry.dir} is stale: ${diff?.files.join(', ')}`);
    });

    it(`rtl/${entry.dir} passes verilator --lint-only -Wall`, async () => {
      const dir = path.join(RTL, entry.dir);
      const files = readdirSync(dir).filter((f) => f.endsWith('.v')).map((f) => path.join(dir, f));
      const manifest = JSON.parse(readFileSync(path.join(dir, readdirSync(dir).find((f) => f.endsWith('.manifest.json'))!), 'utf8')) as { top: string };
      assert.deepEqual(await lintVerilog(files, manifest.top), []);
    });
  }
});
