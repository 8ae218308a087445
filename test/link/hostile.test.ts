// A hostile link: register-started runs with absurd arguments, RESET in the middle of a
// run, a run started behind the engine's back (its results must never reach a MATMUL),
// frames at both sides of the 1 MiB limit, a host that goes away mid-frame or mid-answer,
// and board-sim's close() while it is busy. In RTL under Verilator (the board's byte-stream
// flavour) and through board-sim with the host's link client. Every legitimate MATMUL
// after an attack is compared with `===` against the integer reference. Bounded in count
// (LINK_SOAK=n runs n times as many attacks) and in time; the seed is in every message.

import assert from 'node:assert/strict';
import { defineModule, emitDesign, Bool, UInt, mux, bundlePorts, connectBundle } from '../../generator/hdl/index.ts';
import { linkEngine, OP, STATUS, MAX_PAYLOAD, identityBytes } from '../../generator/cores/link/engine.ts';
import { board, engineParams, BYTES, type BoardParams } from '../../generator/cores/board.ts';
import { ternaryCore, coreExtra } from '../../generator/cores/ternary/core.ts';
import { pickTernary } from '../../generator/cores/ternary/params.ts';
import { emittedDut, dutTest, Clock, ClockCycles, FastStreams, runCycles, globalSeed, XorShift32, AxiLiteMaster, axiLitePorts, AxisSource, AxisSink, axisPorts, withTimeout, type AnyPorts, type Tb } from '../../sim/index.ts';
import { emitCore, findCore, resolveParams } from '../../generator/cores/registry.ts';
import { XDMA_REG } from '../../common/xdma-regs.ts';
import { mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BoardSim } from '../../sim/board-sim.ts';
import { XdmaSim } from '../../sim/xdma-sim.ts';
import { writeAll } from '../../common/write-all.ts';
import { IDENTITY_BYTES } from '../../common/protocol.ts';
import { encodeFrame, headerCheck, FrameDecoder, type Frame } from '../../common/frame.ts';
import { LinkClient, LinkError, type Transport } from '../../host/link/client.ts';
import { coreShape, packWeights, packActivations, tileWords, nTiles, type CoreShape } from '../../common/core-layout.ts';
import { ternaryMatmul, matrix, type IntMatrix } from '../../common/reference.ts';

const SOAK = Number(process.env.LINK_SOAK ?? 1);
if (!Number.isInteger(SOAK) || SOAK < 1 || SOAK > 1000) throw new Error(`LINK_SOAK=${process.env.LINK_SOAK}: expected an integer from 1 to 1000`);

// cols 4, K up to 64 (16 k-tiles), M up to 4, 64 tiles: small and quick to build.
const BOARD: BoardParams = { rows: 4, cols: 4, act: 8, format: 2, kmax: 64, mmax: 4, wdepth: 64, acc: 0, stage: 8, idle: 1024, phy: 0, clk: 12_000_000, baud: 115_200 };
const ENGINE = engineParams(BOARD);
const SHAPE: CoreShape = coreShape({ extra: coreExtra(BOARD) }, 'hostile test board');
const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const CORE_REG = { CTRL: 0, STATUS: 1, K: 2, N: 3, M: 4, WBASE: 5 } as const;

// The board as board.ts wires it, plus a second writer on the core's register port that
// the testbench drives: a run started behind the engine's back, as a bug or a glitch would.
const injectTop = defineModule('hostile_inject_tb', (m) => {
  const engine = m.instance('engine', linkEngine(ENGINE));
  const core = m.instance('core', ternaryCore(pickTernary(BOARD)));
  const we = m.input('tb_reg_we', Bool);
  const addr = m.input('tb_reg_addr', UInt(4));
  const wdata = m.input('tb_reg_wdata', UInt(32));
  m.set(core.reg.addr, mux(we, addr, engine.reg.addr));
  m.set(core.reg.wdata, mux(we, wdata, engine.reg.wdata));
  m.set(core.reg.we, we.or(engine.reg.we));
  m.set(engine.reg.rdata, core.reg.rdata);
  m.set(engine.coreBusy, core.busy);
  for (const s of ['w', 'x'] as const) {
    m.set(core[s].valid, engine[s].valid);
    m.set(core[s].data, engine[s].data);
    m.set(engine[s].ready, core[s].ready);
  }
  m.set(engine.y.valid, core.y.valid);
  m.set(engine.y.data, core.y.data);
  m.set(core.y.ready, engine.y.ready);
  m.set(m.portOf('core', 'rst'), m.sync.rst!.or(engine.coreReset));
  m.set(m.output('busy', Bool), core.busy);
  const rx = bundlePorts(m, 'rx', BYTES, 'sink');
  const tx = bundlePorts(m, 'tx', BYTES, 'source');
  connectBundle(m, BYTES, engine.rx, rx);
  connectBundle(m, BYTES, tx, engine.tx);
  return { rx, tx };
});

const boardDut = emittedDut(emitDesign(board(BOARD)));
const injectDut = emittedDut(emitDesign(injectTop({})));

function randomProblem(rng: XorShift32, o: { K?: number; N?: number; M?: number } = {}): { w: IntMatrix; x: IntMatrix; K: number; N: number; M: number } {
  const K = o.K ?? rng.int(1, BOARD.kmax);
  const N = o.N ?? rng.int(1, 12);
  const M = o.M ?? rng.int(1, BOARD.mmax);
  const w = matrix(N, K, Int8Array.from({ length: N * K }, () => rng.int(-1, 1)), 'W');
  const x = matrix(M, K, Int8Array.from({ length: M * K }, () => rng.int(-128, 127)), 'X');
  return { w, x, K, N, M };
}

const bytesOf = (a: Uint32Array): number[] => [...new Uint8Array(a.buffer, a.byteOffset, a.byteLength)];
function weightFrames(w: IntMatrix): number[][] {
  const words = packWeights(SHAPE, w);
  const tw = tileWords(SHAPE);
  const out: number[][] = [];
  for (let t = 0; t < words.length / tw; t += BOARD.stage) out.push([...u32(t), ...bytesOf(words.subarray(t * tw, Math.min(words.length, (t + BOARD.stage) * tw)))]);
  return out;
}
function matmulPayload(x: IntMatrix, N: number, wbase = 0): number[] {
  const xb: number[] = [];
  for (const v of packActivations(SHAPE, x)) for (let i = 0; i < SHAPE.xBits / 8; i++) xb.push(Number((v >> BigInt(8 * i)) & 0xffn));
  return [...u32(wbase), ...u32(x.cols), ...u32(N), ...u32(x.rows), ...xb];
}
function resultsOf(p: Uint8Array, M: number, N: number): Int32Array {
  const dv = new DataView(p.buffer, p.byteOffset + 1, p.byteLength - 1);
  const y = new Int32Array(M * N);
  for (let nt = 0; nt < nTiles(SHAPE, N); nt++) for (let m = 0; m < M; m++) for (let c = 0; c < SHAPE.cols; c++) {
    const n = nt * SHAPE.cols + c;
    if (n < N) y[m * N + n] = dv.getInt32(((nt * M + m) * SHAPE.cols + c) * 4, true);
  }
  return y;
}

/** The engine's byte streams in RTL: one request at a time, its answer polled in fast runs. */
async function rtlLink(d: AnyPorts, tb: Tb, o: { inject?: boolean } = {}) {
  const clock = new Clock(d.clk!, 10, 'ns').start();
  if (o.inject) for (const n of ['tb_reg_we', 'tb_reg_addr', 'tb_reg_wdata']) d[n]!.value = 0;
  d.rst!.value = 1;
  await ClockCycles(d.clk!, 2);
  d.rst!.value = 0;
  const fast = new FastStreams(clock);
  const src = fast.source({ valid: d.rx_valid!, ready: d.rx_ready!, data: d.rx_data! }, { idle: 0.05, seed: tb.rng.fork() });
  const snk = fast.sink({ valid: d.tx_valid!, ready: d.tx_ready!, data: d.tx_data! }, { backpressure: 0.1, seed: tb.rng.fork() });
  const dec = new FrameDecoder();
  let seq = 0;
  const seen: Frame[] = [];
  const drain = (): void => void seen.push(...dec.push(Uint8Array.from((snk.take() as bigint[]).map(Number))));
  /** Bytes in; the answers to the given seqs out (undefined where none came within maxCycles). */
  const exchange = async (bytes: number[] | Uint8Array, seqs: number[], maxCycles = 100_000): Promise<(Frame | undefined)[]> => {
    src.push(bytes instanceof Uint8Array ? new Uint32Array(bytes) : Uint32Array.from(bytes));
    for (let ran = 0; ran < maxCycles && !seqs.every((s) => seen.some((f) => f.seq === s)); ran += 2000) {
      await runCycles(clock, 2000);
      drain();
    }
    const out = seqs.map((s) => seen.find((f) => f.seq === s));
    seen.length = 0;
    return out;
  };
  const call = async (op: number, payload: number[] | Uint8Array = [], maxCycles?: number): Promise<Frame> => {
    seq = (seq + 1) & 255;
    const [f] = await exchange(encodeFrame({ seq, op, payload: Uint8Array.from(payload) }), [seq], maxCycles);
    if (!f) throw new Error(`no answer to op 0x${op.toString(16)} seq ${seq} (seed ${tb.seed})`);
    return f;
  };
  const nextSeq = (): number => (seq = (seq + 1) & 255);
  const status = (f: Frame): number => f.payload[0]!;
  /** WRITE_WEIGHTS + MATMUL of a random problem: the results must be the reference's. */
  const legit = async (why: string): Promise<void> => {
    const p = randomProblem(tb.rng);
    for (const fr of weightFrames(p.w)) assert.equal(status(await call(OP.WRITE_WEIGHTS, fr)), STATUS.OK, `WRITE_WEIGHTS ${why} (seed ${tb.seed})`);
    const r = await call(OP.MATMUL, matmulPayload(p.x, p.N));
    assert.equal(status(r), STATUS.OK, `MATMUL ${why} (seed ${tb.seed})`);
    assert.equal(r.payload.length, 1 + nTiles(SHAPE, p.N) * p.M * 4 * SHAPE.cols + 8, `MATMUL ${why}: answer length (seed ${tb.seed})`);
    const y = resultsOf(r.payload, p.M, p.N);
    const ref = ternaryMatmul(p.x, p.w).data;
    const bad = ref.findIndex((v, i) => v !== y[i]);
    assert.ok(bad < 0, `MATMUL ${why}: M=${p.M} K=${p.K} N=${p.N} result ${bad} is ${y[bad]}, the reference ${ref[bad]} (seed ${tb.seed})`);
  };
  return { clock, call, exchange, nextSeq, status, legit };
}

const writeReg = (addr: number, v: number): number[] => [addr, ...u32(v)];

describe('hostile link (RTL): register-started runs', () => {
  dutTest(`absurd K/N/M/WBASE then CTRL=1 are refused; the board keeps answering and the next MATMUL is exact (x${SOAK})`, { dut: boardDut, timeout: '200 ms' }, async (d, tb) => {
    const { call, status, legit } = await rtlLink(d, tb);
    const r = tb.rng;
    const absurd = [0, 1, 2, 63, 64, 65, 2 ** 16, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1];
    // The two cases first (a run that never ends; one whose results were left behind), then random ones.
    const cases = [
      { K: 64, N: 2 ** 31 - 1, M: 2, WBASE: 0, CTRL: 1 },
      { K: 8, N: 16, M: 1, WBASE: 0, CTRL: 1 },
      ...Array.from({ length: 6 * SOAK }, () => ({ K: r.pick(absurd), N: r.pick(absurd), M: r.pick(absurd), WBASE: r.pick(absurd), CTRL: r.pick([1, 3, 5, 7, 0xffffffff]) })),
    ];
    for (const c of cases) {
      const what = `K=${c.K} N=${c.N} M=${c.M} WBASE=${c.WBASE} CTRL=${c.CTRL}`;
      for (const [addr, v] of [[CORE_REG.K, c.K], [CORE_REG.N, c.N], [CORE_REG.M, c.M], [CORE_REG.WBASE, c.WBASE]] as const) {
        assert.equal(status(await call(OP.WRITE_REG, writeReg(addr, v))), STATUS.OK, `WRITE_REG ${addr}=${v} (${what}; seed ${tb.seed})`);
      }
      assert.equal(status(await call(OP.WRITE_REG, writeReg(CORE_REG.CTRL, c.CTRL))), STATUS.BAD_ARGS, `${what}: a run started by WRITE_REG must be refused (seed ${tb.seed})`);
      const st = await call(OP.READ_REG, [CORE_REG.STATUS]);
      assert.equal(st.payload[1]! & 1, 0, `${what}: STATUS reads busy after the refused start (seed ${tb.seed})`);
      const id = await call(OP.IDENTIFY);
      assert.deepEqual([...id.payload], [STATUS.OK, ...identityBytes(ENGINE)], `${what}: IDENTIFY (seed ${tb.seed})`);
      await legit(`after ${what}`);
    }
    tb.log.info(`${cases.length} register-started runs refused, each followed by an exact MATMUL`);
  });
});

describe('hostile link (RTL): a run started behind the engine', () => {
  dutTest(`its results never reach a MATMUL; IDENTIFY is answered while it runs; RESET aborts it (x${SOAK})`, { dut: injectDut, timeout: '200 ms' }, async (d, tb) => {
    const { clock, call, exchange, nextSeq, status, legit } = await rtlLink(d, tb, { inject: true });
    const inject = async (regs: [number, number][]): Promise<void> => {
      for (const [addr, v] of regs) {
        d.tb_reg_addr!.value = addr;
        d.tb_reg_wdata!.value = v >>> 0;
        d.tb_reg_we!.value = 1;
        await ClockCycles(clock.signal, 1);
      }
      d.tb_reg_we!.value = 0;
    };
    const run = (K: number, N: number, M: number): [number, number][] => [[CORE_REG.K, K], [CORE_REG.N, N], [CORE_REG.M, M], [CORE_REG.WBASE, 0], [CORE_REG.CTRL, 1]];
    await legit('before any injected run');
    for (let i = 0; i < 3 * SOAK; i++) {
      // A short run whose results nobody asked for: they must be discarded, not sent as the next MATMUL's.
      await inject(run(8, 16, 1));
      await runCycles(clock, tb.rng.int(1, 300));
      await legit(`after an injected run of K=8 N=16 M=1 (round ${i})`);
      // A run that would take hours: the engine still answers, MATMUL is refused BUSY, RESET aborts it.
      await inject(run(64, 2 ** 31 - 1, 2));
      await runCycles(clock, tb.rng.int(1, 500));
      assert.equal(d.busy!.num, 1, `the injected run is running (seed ${tb.seed})`);
      assert.equal(status(await call(OP.IDENTIFY)), STATUS.OK, `IDENTIFY while a run is in progress (seed ${tb.seed})`);
      const p = randomProblem(tb.rng);
      assert.equal(status(await call(OP.MATMUL, matmulPayload(p.x, p.N))), STATUS.BUSY, `MATMUL while the core runs (seed ${tb.seed})`);
      assert.equal(status(await call(OP.RESET)), STATUS.OK, `RESET during a run (seed ${tb.seed})`);
      const st = await call(OP.READ_REG, [CORE_REG.STATUS]);
      assert.equal(st.payload[1]! & 1, 0, `STATUS busy after RESET (seed ${tb.seed})`);
      await legit(`after RESET aborted a run (round ${i})`);
      // RESET queued right behind a MATMUL: both answered in order, the MATMUL exact.
      const q = randomProblem(tb.rng);
      await inject(run(8, 4, 1)); // and results nobody asked for, again
      await runCycles(clock, 50);
      for (const fr of weightFrames(q.w)) assert.equal(status(await call(OP.WRITE_WEIGHTS, fr)), STATUS.OK);
      const [a, b] = [nextSeq(), nextSeq()];
      const [mm, rs] = await exchange([...encodeFrame({ seq: a, op: OP.MATMUL, payload: Uint8Array.from(matmulPayload(q.x, q.N)) }), ...encodeFrame({ seq: b, op: OP.RESET, payload: new Uint8Array() })], [a, b]);
      assert.ok(mm && rs, `MATMUL then RESET back to back: both answered (seed ${tb.seed})`);
      assert.equal(status(mm!), STATUS.OK);
      assert.deepEqual(resultsOf(mm!.payload, q.M, q.N), ternaryMatmul(q.x, q.w).data, `MATMUL followed by RESET (seed ${tb.seed})`);
      assert.equal(status(rs!), STATUS.OK);
    }
  });
});

describe('hostile link (RTL): the 1 MiB frame limit', () => {
  dutTest('frames of exactly 1 MiB are answered (BAD_LENGTH, BAD_ARGS); a header claiming 1 MiB + 1 is garbage', { dut: boardDut, timeout: '400 ms', wallTimeoutMs: 300_000 }, async (d, tb) => {
    const { call, exchange, nextSeq, status, legit } = await rtlLink(d, tb);
    const big = Uint8Array.from({ length: MAX_PAYLOAD }, (_, i) => (i * 7 + 3) & 0xff);
    const max = 1_200_000;
    assert.equal(status(await call(OP.IDENTIFY, big, max)), STATUS.BAD_LENGTH, `IDENTIFY of 1 MiB (seed ${tb.seed})`);
    assert.equal(status(await call(OP.READ_REG, big, max)), STATUS.BAD_LENGTH, `READ_REG of 1 MiB (seed ${tb.seed})`);
    assert.equal(status(await call(OP.WRITE_WEIGHTS, big, max)), STATUS.BAD_ARGS, `WRITE_WEIGHTS of 1 MiB: more tiles than the stage (seed ${tb.seed})`);
    const mm = Uint8Array.from(big);
    mm.set([0, 0, 0, 0, ...u32(64), ...u32(4), ...u32(4)]);
    assert.equal(status(await call(OP.MATMUL, mm, max)), STATUS.BAD_ARGS, `MATMUL of 1 MiB: more activations than the largest run (seed ${tb.seed})`);
    // One byte over: the header itself is refused, so it is hunted through as garbage.
    const seq = nextSeq();
    const hdr = [0xb1, 0x7f, seq, OP.IDENTIFY, ...u32(MAX_PAYLOAD + 1)];
    hdr.push(headerCheck(Uint8Array.from(hdr)));
    const id = nextSeq();
    const [over, after] = await exchange([...hdr, 1, 2, 3, ...encodeFrame({ seq: id, op: OP.IDENTIFY, payload: new Uint8Array() })], [seq, id], 20_000);
    assert.equal(over, undefined, `a header with len = 1 MiB + 1 must not be answered (seed ${tb.seed})`);
    assert.ok(after && status(after) === STATUS.OK, `IDENTIFY right after it is answered (seed ${tb.seed})`);
    await legit('after 1 MiB frames');
  });
});

describe('hostile link (RTL): the PCIe CONTROL reset', () => {
  // The parameters of test/link/xdma.test.ts, so the model is built once for both.
  const XDMA = { rows: 4, cols: 4, act: 8, format: 2, kmax: 64, mmax: 4, wdepth: 64, acc: 0, stage: 8, idle: 1024, axis: 64 };
  const xdmaCore = findCore('xdma');
  const xdmaDut = emittedDut(emitCore(xdmaCore, resolveParams(xdmaCore, XDMA)));
  dutTest(`aborts a run whose answer the host stopped reading; the card then answers exactly (x${SOAK})`, { dut: xdmaDut, timeout: '50 ms' }, async (d, tb) => {
    const clock = new Clock(d.axi_aclk!, 8, 'ns').start();
    const axi = new AxiLiteMaster(clock, axiLitePorts(d, 's_axil_'));
    const h2c = new AxisSource(clock, axisPorts(d, 's_axis_h2c_'), { idle: 0.1, seed: tb.rng.fork() });
    const c2h = new AxisSink(clock, axisPorts(d, 'm_axis_c2h_'), { backpressure: 0.3, seed: tb.rng.fork() });
    const c2hStall = (on: boolean): void => void ((c2h.stream.opts as { backpressure?: number }).backpressure = on ? 1 : 0.3);
    d.axi_aresetn!.value = 0;
    await ClockCycles(clock.signal, 4);
    d.axi_aresetn!.value = 1;
    const call = async (seq: number, op: number, payload: number[] = []): Promise<Frame> => {
      h2c.send(encodeFrame({ seq, op, payload: Uint8Array.from(payload) }));
      // A C2H packet cut short by the reset arrives in front of the answer: the decoder skips it.
      const [f] = new FrameDecoder().push(await withTimeout(c2h.recv(), 2, 'ms'));
      assert.equal(f?.seq, seq, `the answer to seq ${seq} (seed ${tb.seed})`);
      return f!;
    };
    for (let round = 0; round < 2 * SOAK; round++) {
      // 64 results (16 n-tiles of 4 k-tiles, M = 4) against a 16-deep result FIFO: with C2H
      // stalled the run stops part way, holding the engine in its answer.
      const p = randomProblem(tb.rng, { K: 16, N: 64, M: 4 });
      for (const fr of weightFrames(p.w)) assert.equal((await call(1, OP.WRITE_WEIGHTS, fr)).payload[0], STATUS.OK);
      c2hStall(true);
      h2c.send(encodeFrame({ seq: 2, op: OP.MATMUL, payload: Uint8Array.from(matmulPayload(p.x, p.N)) }));
      await ClockCycles(clock.signal, tb.rng.int(2000, 4000));
      assert.equal(d.busy!.num, 1, `the run is stalled on the unread answer (seed ${tb.seed})`);
      await axi.write(XDMA_REG.CONTROL, 1);
      await ClockCycles(clock.signal, 4);
      assert.equal(d.busy!.num, 0, `CONTROL reset stops the run (seed ${tb.seed})`);
      c2hStall(false);
      assert.deepEqual([...(await call(3, OP.IDENTIFY)).payload.subarray(0, 1)], [STATUS.OK], `IDENTIFY after CONTROL reset (seed ${tb.seed})`);
      const r = await call(5, OP.MATMUL, matmulPayload(p.x, p.N));
      assert.deepEqual(resultsOf(r.payload, p.M, p.N), ternaryMatmul(p.x, p.w).data, `MATMUL after CONTROL reset, on the weights written before it (seed ${tb.seed})`);
    }
  });
});

// ---- through board-sim, with the host's link client -------------------------------------------------

const SIM_PARAMS = { rows: 4, cols: 4, act: 8, format: 2, kmax: 64, mmax: 4, wdepth: 64, stage: 8, idle: 4096 };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** A promise, or a failure naming what did not finish within `ms`. */
async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms (seed ${globalSeed()})`)), ms)));
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

describe('hostile link through board-sim', function () {
  const seed = globalSeed();
  let sim: BoardSim | undefined;
  let receiver: (b: Uint8Array) => void = () => {};
  const transport = (name: string): Transport => ({ name, write: async (b) => sim!.receive(b), onData: (cb) => void (receiver = cb), close: async () => {} });
  let client!: LinkClient;
  let shape!: CoreShape;
  const rng = new XorShift32(seed ^ 0x5eed);
  before(async () => {
    sim = await BoardSim.create(SIM_PARAMS, (b) => receiver(b), { log: () => {} });
    shape = coreShape(sim.manifest, 'board-sim manifest');
    client = new LinkClient(transport('board-sim'), { timeoutMs: 500, retries: 1, matmulTimeoutMs: 2000 });
  });
  after(async () => {
    if (sim) await within(5000, 'board-sim close()', sim.close());
  });
  const legit = async (c: LinkClient, why: string): Promise<void> => {
    const p = randomProblem(rng);
    await c.writeWeights(shape, SIM_PARAMS.stage, p.w);
    const { y } = await c.matmul(shape, p.x, p.N);
    const ref = ternaryMatmul(p.x, p.w).data;
    const bad = ref.findIndex((v, i) => v !== y[i]);
    assert.ok(bad < 0, `${why}: M=${p.M} K=${p.K} N=${p.N} result ${bad} is ${y[bad]}, the reference ${ref[bad]} (seed ${seed})`);
  };
  const wr = (addr: number, v: number): Promise<Uint8Array> => client.request(OP.WRITE_REG, Uint8Array.from(writeReg(addr, v)));

  it(`register-started runs (the never-ending one, the one that leaves results behind, random ones) are refused; the next MATMUL is exact (seed ${seed}, x${SOAK})`, async () => {
    const cases = [
      [64, 2 ** 31 - 1, 2, 0],
      [8, 16, 1, 0],
      ...Array.from({ length: 4 * SOAK }, () => [rng.pick([0, 64, 65, 2 ** 32 - 1]), rng.pick([0, 17, 2 ** 31 - 1, 2 ** 32 - 1]), rng.pick([0, 1, 5, 2 ** 32 - 1]), rng.pick([0, 63, 64, 2 ** 32 - 1])]),
    ];
    for (const [K, N, M, WBASE] of cases) {
      const what = `K=${K} N=${N} M=${M} WBASE=${WBASE}`;
      await wr(CORE_REG.K, K!);
      await wr(CORE_REG.N, N!);
      await wr(CORE_REG.M, M!);
      await wr(CORE_REG.WBASE, WBASE!);
      await assert.rejects(wr(CORE_REG.CTRL, 1), (e: unknown) => e instanceof LinkError && /status 3 \(bad arguments\)/.test(e.message), `${what}, CTRL=1: refused (seed ${seed})`);
      const id = await client.identify();
      assert.equal(id.rows, 4, `IDENTIFY after ${what} (seed ${seed})`);
      await legit(client, `MATMUL after ${what}`);
    }
  });

  it(`RESET right behind a MATMUL, a host that goes away mid-frame and mid-answer: the next host is answered exactly (seed ${seed}, x${SOAK})`, async () => {
    for (let i = 0; i < 2 * SOAK; i++) {
      // MATMUL and RESET in one write: two answers, in order, the MATMUL exact.
      const p = randomProblem(rng);
      await client.writeWeights(shape, SIM_PARAMS.stage, p.w);
      const dec = new FrameDecoder();
      const got: Frame[] = [];
      receiver = (b) => void got.push(...dec.push(b));
      sim!.receive(Uint8Array.from([...encodeFrame({ seq: 201, op: OP.MATMUL, payload: Uint8Array.from(matmulPayload(p.x, p.N)) }), ...encodeFrame({ seq: 202, op: OP.RESET, payload: new Uint8Array() })]));
      for (let t = 0; t < 200 && got.length < 2; t++) await sleep(10);
      assert.deepEqual(got.map((f) => [f.seq, f.payload[0]]), [[201, STATUS.OK], [202, STATUS.OK]], `MATMUL then RESET: both answered OK (seed ${seed})`);
      assert.deepEqual(resultsOf(got[0]!.payload, p.M, p.N), ternaryMatmul(p.x, p.w).data, `the MATMUL before RESET (seed ${seed})`);

      // Half a frame, then the host is gone; a new host after a pause is heard.
      const half = encodeFrame({ seq: 77, op: OP.MATMUL, payload: Uint8Array.from(matmulPayload(p.x, p.N)) });
      sim!.receive(half.subarray(0, rng.int(1, half.length - 1)));
      await sleep(60);
      client = new LinkClient(transport('board-sim (second host)'), { timeoutMs: 500, retries: 1, matmulTimeoutMs: 2000 });
      await legit(client, `after a host left mid-frame (round ${i})`);

      // A host that asks for a MATMUL and leaves while the answer streams out: the next one
      // sees the rest of that answer as garbage before its own.
      let cut = rng.int(1, 60);
      receiver = (b) => {
        cut -= b.length;
      };
      sim!.receive(encodeFrame({ seq: 78, op: OP.MATMUL, payload: Uint8Array.from(matmulPayload(p.x, p.N)) }));
      client = new LinkClient(transport('board-sim (third host)'), { timeoutMs: 500, retries: 1, matmulTimeoutMs: 2000 });
      assert.equal((await client.identify()).cols, 4, `IDENTIFY after a host left mid-answer (seed ${seed})`);
      await legit(client, `after a host left mid-answer (round ${i})`);
    }
  });

  it(`frames of up to 1 MiB arriving in chunks with pauses between them are all answered (seed ${seed})`, async () => {
    // A pseudo-terminal delivers a large write in pieces, with gaps when either process is
    // busy; a gap inside a frame is not the host going quiet.
    const big = Uint8Array.from({ length: MAX_PAYLOAD }, (_, i) => (i * 13 + 1) & 0xff);
    for (const [op, n, want] of [[OP.IDENTIFY, MAX_PAYLOAD, /status 2 \(bad length\)/], [OP.MATMUL, 16 + 4 * rng.int(50_000, 262_140), /status 3 \(bad arguments\)/]] as const) {
      const frame = encodeFrame({ seq: 90, op, payload: big.subarray(0, n) });
      const dec = new FrameDecoder();
      const got: Frame[] = [];
      receiver = (b) => void got.push(...dec.push(b));
      for (let o = 0; o < frame.length; o += 1 << 17) {
        sim!.receive(frame.subarray(o, o + (1 << 17)));
        await sleep(40);
      }
      for (let t = 0; t < 500 && !got.length; t++) await sleep(10);
      assert.equal(got.length, 1, `op 0x${op.toString(16)} with ${n} payload bytes in 128 KiB pieces 40 ms apart: one answer (seed ${seed})`);
      assert.match(`status ${got[0]!.payload[0]} (${['OK', 'unknown opcode', 'bad length', 'bad arguments', 'busy'][got[0]!.payload[0]!]})`, want);
    }
    await assert.rejects(client.request(OP.IDENTIFY, new Uint8Array(MAX_PAYLOAD + 1)), (e: unknown) => e instanceof LinkError && /1048577 bytes.*at most 1048576/.test(e.message), 'the host refuses to send a frame over the limit');
    client = new LinkClient(transport('board-sim (after 1 MiB frames)'), { timeoutMs: 500, retries: 1, matmulTimeoutMs: 2000 });
    await legit(client, 'after 1 MiB frames');
  });

  it(`close() does not wait for the work in progress (seed ${seed})`, async () => {
    const s = await BoardSim.create(SIM_PARAMS, () => {}, { log: () => {} });
    const frame = encodeFrame({ seq: 1, op: OP.IDENTIFY, payload: new Uint8Array(MAX_PAYLOAD) });
    s.receive(frame);
    await sleep(5);
    await within(2000, 'close() during a 1 MiB frame', s.close());
    assert.ok(s.cycles < frame.length, `close() returned after ${s.cycles} cycles, before the ${frame.length}-byte frame was consumed (seed ${seed})`);
  });

  it(`xdma-sim: close() does not wait for the work in progress either (seed ${seed})`, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hostile-xdma-'));
    // The parameters of test/link/xdma.test.ts, so the model is built once for both.
    const x = await XdmaSim.create({ rows: 4, cols: 4, act: 8, format: 2, kmax: 64, mmax: 4, wdepth: 64, acc: 0, stage: 8, idle: 1024, axis: 64 }, dir, { log: () => {} });
    const fd = openSync(`${x.prefix}_h2c_0`, 'w'); // the simulator holds the FIFO open, so this does not wait
    try {
      const frame = encodeFrame({ seq: 1, op: OP.IDENTIFY, payload: new Uint8Array(MAX_PAYLOAD) });
      await writeAll(fd, frame);
      await sleep(5);
      await within(2000, 'xdma-sim close() during a 1 MiB frame', x.close());
      assert.ok(x.cycles < frame.length, `xdma-sim close() returned after ${x.cycles} cycles, before the ${frame.length}-byte frame was consumed (seed ${seed})`);
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it(`xdma-sim: close() when the host stopped reading C2H with more than the FIFO holds pending (seed ${seed})`, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hostile-xdma-'));
    const x = await XdmaSim.create({ rows: 4, cols: 4, act: 8, format: 2, kmax: 64, mmax: 4, wdepth: 64, acc: 0, stage: 8, idle: 1024, axis: 64 }, dir, { log: () => {} });
    const fd = openSync(`${x.prefix}_h2c_0`, 'w');
    try {
      // 2,000 IDENTIFY requests in one transfer: about 110 KiB of answers, nobody reading them.
      const one = (i: number): Uint8Array => encodeFrame({ seq: i & 0xff, op: OP.IDENTIFY, payload: new Uint8Array(0) });
      const all = Buffer.concat(Array.from({ length: 2000 }, (_, i) => one(i)));
      await writeAll(fd, all);
      for (let t = 0; t < 300 && x.cycles < 200_000; t++) await sleep(10); // the engine is well into answering
      await within(3000, 'xdma-sim close() with a full C2H FIFO', x.close());
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a MATMUL answer of the wrong length is refused by the host, never returned', async () => {
    // A fake board that answers every MATMUL OK with one result beat too few.
    let cb: (b: Uint8Array) => void = () => {};
    const dec = new FrameDecoder();
    const fake: Transport = {
      name: 'fake board',
      write: async (b) => {
        for (const f of dec.push(b)) {
          const count = nTiles(shape, 8) * 2 - 1;
          setImmediate(() => cb(encodeFrame({ seq: f.seq, op: f.op | 0x80, payload: new Uint8Array(1 + count * 16 + 8) })));
        }
      },
      onData: (c) => void (cb = c),
      close: async () => {},
    };
    const c = new LinkClient(fake, { timeoutMs: 200, retries: 0 });
    const x = matrix(2, 8, new Int8Array(16), 'X');
    await assert.rejects(c.matmul(shape, x, 8), (e: unknown) => e instanceof LinkError && /MATMUL answer has 56 bytes, expected 72/.test(e.message));
  });

  it("an IDENTIFY whose act byte is not 4, 8 or 8 with the int4-pairs flag is refused by name, never misread", async () => {
    for (const [actByte, ok] of [[4, true], [8, true], [0x88, true], [0x84, false], [0x48, false], [16, false], [0, false]] as const) {
      let cb: (b: Uint8Array) => void = () => {};
      const dec = new FrameDecoder();
      const fake: Transport = {
        name: 'fake board',
        write: async (b) => {
          for (const f of dec.push(b)) {
            const p = new Uint8Array(1 + IDENTITY_BYTES);
            p[1] = 1;
            p[1 + 33] = 4;
            p[1 + 34] = 4;
            p[1 + 35] = actByte;
            p[1 + 36] = 2;
            setImmediate(() => cb(encodeFrame({ seq: f.seq, op: f.op | 0x80, payload: p })));
          }
        },
        onData: (c) => void (cb = c),
        close: async () => {},
      };
      const c = new LinkClient(fake, { timeoutMs: 200, retries: 0 });
      if (ok) assert.equal((await c.identify()).act, actByte & 0x7f, `act byte 0x${actByte.toString(16)}`);
      else await assert.rejects(c.identify(), (e: unknown) => e instanceof LinkError && new RegExp(`fake board: IDENTIFY's act byte is 0x${actByte.toString(16)}; expected 4, 8`).test(e.message), `act byte 0x${actByte.toString(16)}`);
    }
  });
});

