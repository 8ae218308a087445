// Drives one ternary matmul core in simulation the way the SoC's command engine will:
// registers for shape and control, the C++ stream engine for weights, activations and
// results. Shared by the core regression and the core benchmark.

import { emitDesign } from '../../generator/hdl/index.ts';
import { ternaryCore, coreExtra } from '../../generator/cores/ternary/core.ts';
import type { TernaryParams } from '../../generator/cores/ternary/params.ts';
import { emittedSource, DutSpec, ClockCycles, RisingEdge, FastStreams, type Clock, type Signal, type AnyPorts } from '../index.ts';
import { withXilinxPrims } from '../vip/xilinx-prims.ts';
import { AxiMemory, axi4Ports, type AxiMemoryOptions } from '../vip/axi-memory.ts';
import { coreShape, packActivations, packActivationPairs, packWeights, tileWords, unpackResults, nTiles, type CoreShape } from '../../common/core-layout.ts';
import type { IntMatrix } from '../../common/reference.ts';
import { REG, CTRL, CORE_STATUS } from '../../common/core-registers.ts';
import { tokenSteps } from '../../common/core-model.ts';

export interface CoreDesign {
  readonly params: TernaryParams;
  readonly shape: CoreShape;
  readonly dut: DutSpec<AnyPorts>;
}

/** Emit a configuration into the cache (the model build is cached by content). */
export function coreDesign(params: TernaryParams): CoreDesign {
  const d = emitDesign(ternaryCore(params), { extra: coreExtra(params) });
  const shape = coreShape(d.manifest, `${d.manifest.top}.manifest.json`);
  // GCC at -O1: a configuration runs thousands of cycles, not millions, and -O2 about doubled
  // the compile of its model (the regression builds one per shape on a fresh machine).
  const src = emittedSource(d, { cxxOpt: 1 });
  return { params, shape, dut: new DutSpec<AnyPorts>(withXilinxPrims(src, params)) };
}

export interface RunResult {
  y: Int32Array;
  cycles: number;
  stalls: number;
  /** Cycles spent waiting for weight tiles from DRAM (0 with block RAM). */
  wstalls: number;
}

/** Reset a core: `rst`, and `mem_rst` of the DRAM units when it has them. */
export async function resetCore(dut: Record<string, Signal>, cycles = 3): Promise<void> {
  const resets = [dut.rst!, ...(Object.keys(dut).includes('mem_rst') ? [dut.mem_rst!] : [])];
  for (const r of resets) r.value = 1;
  await ClockCycles(dut.clk!, cycles);
  for (const r of resets) r.value = 0;
}

export class CoreDriver {
  private readonly fast: FastStreams;
  private readonly wsrc;
  private readonly xsrc;
  private readonly ysnk;
  private collected = 0;
  /** The board DRAM behind a core whose weights live there (dram > 0): port 0's memory. */
  readonly mem: AxiMemory | undefined;
  /** One memory per AXI4 master (ports), each serving that port's region. */
  readonly mems: readonly AxiMemory[];

  constructor(
    readonly dut: Record<string, Signal>,
    readonly clock: Clock,
    readonly shape: CoreShape,
    opts: { backpressure?: number; seed?: number; dram?: Omit<AxiMemoryOptions, 'size'> } = {},
  ) {
    this.fast = new FastStreams(clock);
    this.wsrc = this.fast.source({ valid: dut.w_valid!, ready: dut.w_ready!, data: dut.w_data! }, { seed: (opts.seed ?? 1) + 1 });
    this.xsrc = this.fast.source({ valid: dut.x_valid!, ready: dut.x_ready!, data: dut.x_data! }, { seed: (opts.seed ?? 1) + 2 });
    this.ysnk = this.fast.sink({ valid: dut.y_valid!, ready: dut.y_ready!, data: dut.y_data! }, { backpressure: opts.backpressure ?? 0, seed: (opts.seed ?? 1) + 3 });
    const dram = shape.dram;
    // A memory per port, each with its own stalls (seed), as separate channels or controllers behave.
    this.mems = dram
      ? Array.from({ length: dram.ports }, (_, j) => {
          const prefix = dram.ports === 1 ? 'm_axi_' : `m_axi${j}_`;
          const name = dram.ports === 1 ? 'board DRAM' : `board DRAM port ${j}`;
          return new AxiMemory(clock, axi4Ports(dut, prefix), { seed: (opts.seed ?? 1) + 4 + 16 * j, ...opts.dram, base: dram.base + j * dram.region, size: dram.region, name });
        })
      : [];
    this.mem = this.mems[0];
  }

  /** Result back-pressure: the chance that y_ready is low in a cycle. */
  setBackpressure(p: number): void {
    this.ysnk.setProbability(p);
  }

  async writeReg(addr: number, value: number): Promise<void> {
    const d = this.dut;
    d.reg_addr!.value = addr;
    d.reg_wdata!.value = value >>> 0;
    d.reg_we!.value = 1;
    await RisingEdge(this.clock.signal);
    d.reg_we!.value = 0;
  }

  async readReg(addr: number): Promise<number> {
    this.dut.reg_addr!.value = addr;
    await RisingEdge(this.clock.signal);
    return this.dut.reg_rdata!.num;
  }

  /** Load W (N x K) into weight memory at tile `base`. */
  async loadWeights(w: IntMatrix, base = 0): Promise<number> {
    const words = packWeights(this.shape, w);
    const tw = tileWords(this.shape);
    const tiles: bigint[] = [];
    for (let t = 0; t < words.length / tw; t++) {
      let v = 0n;
      for (let i = tw - 1; i >= 0; i--) v = (v << 32n) | BigInt(words[t * tw + i]!);
      tiles.push(v);
    }
    await this.writeReg(REG.WADDR, base);
    await this.writeReg(REG.CTRL, CTRL.RESTART_WEIGHTS);
    this.wsrc.push(tiles);
    await this.fast.run({ maxCycles: (this.mem ? 100 : 10) * tiles.length + 1000 });
    // DRAM writes are done when their responses are in: STATUS.busy falls then.
    await this.idle(100_000, 'after its weights were written');
    return tiles.length;
  }

  /** Wait until STATUS.busy is low (a run, DRAM writes or a flush); returns the register reads it took. */
  async idle(limit = Infinity, what = ''): Promise<number> {
    let c = 0;
    for (; (await this.readReg(REG.STATUS)) & CORE_STATUS.BUSY; c++) if (c > limit) throw new Error(`the core stayed busy ${limit.toLocaleString('en-US')} cycles ${what}`);
    return c;
  }

  /** Set K, N, M and WBASE and start a run (activations must already be loaded); `int4`: a dual4 core's int4 mode. */
  async start(K: number, N: number, M: number, base: number, int4 = false): Promise<void> {
    if (int4 && !this.shape.dual4) throw new Error('CoreDriver: int4 mode needs a core generated with dual4=1');
    await this.writeReg(REG.K, K);
    await this.writeReg(REG.N, N);
    await this.writeReg(REG.M, M);
    await this.writeReg(REG.WBASE, base);
    await this.writeReg(REG.CTRL, CTRL.START | (int4 ? CTRL.INT4 : 0));
  }

  /** Run Y = X W^T with W already loaded at tile `base`; `int4`: in a dual4 core's int4 mode (two tokens a step). */
  async run(x: IntMatrix, N: number, base = 0, opts: { int4?: boolean } = {}): Promise<RunResult> {
    const M = x.rows;
    const K = x.cols;
    const int4 = opts.int4 ?? false;
    await this.writeReg(REG.CTRL, CTRL.RESTART_ACTIVATIONS);
    this.xsrc.push(int4 ? packActivationPairs(this.shape, x) : packActivations(this.shape, x));
    await this.fast.run({ maxCycles: 10 * M * Math.ceil(K / this.shape.rows) + 100 });
    await this.start(K, N, M, base, int4);
    const status = await this.readReg(REG.STATUS);
    if (status & CORE_STATUS.REFUSED) throw new Error(`the core refused the run (STATUS=${status}) for K=${K} N=${N} M=${M} WBASE=${base}`);
    const beats = nTiles(this.shape, N) * tokenSteps(M, int4);
    this.collected += beats;
    this.ysnk.expect(this.collected);
    await this.fast.run({ maxCycles: (this.mem ? 200 : 40) * beats * Math.ceil(K / this.shape.rows) + 10_000 });
    await this.idle();
    const got = this.ysnk.take() as bigint[];
    return { y: unpackResults(this.shape, got, M, N, int4), cycles: await this.readReg(REG.CYCLES), stalls: await this.readReg(REG.STALLS), wstalls: await this.readReg(REG.WSTALLS) };
  }
}
