// `synth --target ice40 --fmax N` refuses a clock the core cannot meet, naming the limit:
// before place and route when the synthesized logic depth alone rules it out, after it (with
// nextpnr-ice40's figure) when only the routed design does. A small core keeps both quick.

import assert from 'node:assert/strict';
import { synthesize } from '../../host/cli/commands/synth.ts';

const SMALL = { rows: 2, cols: 2, kmax: 16, mmax: 2, wdepth: 16 };

describe('synth --target ice40 --fmax', function () {
  this.timeout(600_000);

  it('refuses a clock beyond what the logic depth allows before running nextpnr-ice40', async () => {
    const t0 = performance.now();
    await assert.rejects(synthesize('ternary', SMALL, 'ice40', 400), (e: Error) => {
      assert.match(e.message, /^--fmax 400: ternary_core_2x2\w* cannot meet it on the iCE40 UP5K, refused before place and route: its deepest stage being \d+ LUT levels and \d+ carry chain\(s\) \(\d+ in all on one path, into [\w.[\]]+\), at most \d+\.\d MHz/);
      return true;
    });
    console.log(`      refused in ${((performance.now() - t0) / 1000).toFixed(1)} s (synthesis only)`);
  });

  it('refuses a clock within that bound but beyond the routed design with the Fmax nextpnr-ice40 reached', async () => {
    await assert.rejects(synthesize('ternary', SMALL, 'ice40', 90), (e: Error) => {
      assert.match(e.message, /^--fmax 90: ternary_core_2x2\w* cannot meet it on the iCE40 UP5K: it reaches \d+\.\d MHz in nextpnr-ice40 \(seed 1\), its deepest stage being \d+ LUT levels/);
      return true;
    });
  });

  it('a reachable clock passes, and the report carries the Fmax', async () => {
    const r = await synthesize('ternary', SMALL, 'ice40', 20);
    assert.ok(r.fmaxMHz !== undefined && r.fmaxMHz >= 20, `Fmax ${r.fmaxMHz}`);
  });
});
