// The PCIe board without a PCIe slot: the XDMA top under Verilator, reached through the
// same three device nodes the XDMA driver makes, here as files in a directory:
//   <prefix>_h2c_0   a FIFO the host writes requests into (the AXI4-Stream H2C side),
//   <prefix>_c2h_0   a FIFO the host reads responses from (C2H, one write per packet),
//   <prefix>_user    a regular file holding the AXI4-Lite register bank: the simulator
//                    reads every register through the RTL's AXI4-Lite slave after each
//                    burst of work and writes them at their offsets; a word the host
//                    writes into CONTROL is picked up and performed as a bus write.
// The host's pcie transport cannot tell these from the driver's devices (pread/pwrite on
// `_user`, write on `_h2c_0`, read on `_c2h_0`), so the same code runs against both.

import { spawnSync } from 'node:child_process';
import { openSync, closeSync, read, writeSync, readSync, existsSync, mkdirSync, rmSync, constants } from 'node:fs';
import * as path from 'node:path';
import { XDMA_REG, XDMA_NREGS as NREGS } from '../common/xdma-regs.ts';
import { writeAll } from '../common/write-all.ts';
import { buildModel, type BuildOptions } from './bridge/build.ts';
import { checkedInSource } from './checked-in.ts';
import { Model, StreamKind, type ClockEvent } from './bridge/model.ts';
import { AXI4_FIELDS, axiMemoryStats, type AxiMemoryStats } from './vip/axi-memory.ts';
import { coreShape } from '../common/core-layout.ts';
import type { Manifest } from '../generator/hdl/design.ts';

const CHUNK = 20_000;
/** Board DRAM seen from the fabric: cycles from a read address to its first beat (a MIG at 4:1 is about this). */
export const DDR_LATENCY = 24;

export class XdmaSim {
  /** The AXI clock, 125 MHz in simulated time, and where it stands. */
  private next: ClockEvent = { timePs: 0, level: 1 };
  private readonly ix: (name: string) => number;
  private readonly clk: number;
  private readonly h2c: number;
  private readonly c2h: number;
  private readonly beatBytes: number;
  private readonly beatWords: number;
  private h2cFd = -1;
  private c2hFd = -1;
  private userFd = -1;
  private closed = false;
  private running = Promise.resolve();
  private poll: NodeJS.Timeout | undefined;
  /** The AXI4 memory models behind m_axi_ddr_* (or m_axi_ddr0_* …, one per port), when the top keeps its weights in board DRAM. */
  private readonly ddr: number[] = [];
  cycles = 0;

  private constructor(
    readonly model: Model,
    readonly manifest: Manifest,
    readonly prefix: string,
  ) {
    this.ix = (n: string): number => {
      const i = model.index.get(n);
      if (i === undefined) throw new Error(`xdma-sim: the model has no port '${n}'`);
      return i;
    };
    const ix = this.ix;
    this.clk = ix('axi_aclk');
    const width = model.ports[ix('s_axis_h2c_tdata')]!.width;
    this.beatBytes = width / 8;
    this.beatWords = Math.ceil(width / 32) + 2; // tdata words, tkeep, tlast
    const fields = (p: string): number[] => [ix(`${p}_tdata`), ix(`${p}_tkeep`), ix(`${p}_tlast`)];
    this.h2c = model.streamAdd(StreamKind.Source, ix('s_axis_h2c_tvalid'), ix('s_axis_h2c_tready'), fields('s_axis_h2c'), 1, 0);
    this.c2h = model.streamAdd(StreamKind.Sink, ix('m_axis_c2h_tvalid'), ix('m_axis_c2h_tready'), fields('m_axis_c2h'), 2, 0);
    for (const n of ['s_axil_awvalid', 's_axil_wvalid', 's_axil_bready', 's_axil_arvalid', 's_axil_rready']) model.setBits(ix(n), 0);
    const dram = coreShape(manifest, `${manifest.top}.manifest.json`).dram;
    if (dram) {
      // One memory per port, each serving its region (generator/cores/ternary/dram-layout.ts).
      for (let j = 0; j < dram.ports; j++) {
        const prefix = dram.ports === 1 ? 'm_axi_ddr_' : `m_axi_ddr${j}_`;
        this.ddr.push(model.axiMemAdd(AXI4_FIELDS.map((f) => ix(`${prefix}${f}`)), { base: dram.base + j * dram.region, size: dram.region, latency: DDR_LATENCY, seed: 0x5eed + j, stall: 0 }));
      }
    }
    model.setBits(ix('axi_aresetn'), 0);
    this.step(4);
    model.setBits(ix('axi_aresetn'), 1);
  }

  /**
   * Build (cached) the XDMA top and make its device files under `dir` as `<dir>/xdma0_*`:
   * from rtl/xdma's Verilog with its parameters, else elaborated by the generator, which is
   * imported lazily for that case only (sim/elaborate.ts).
   */
  static async create(params: Record<string, number>, dir: string, opts: BuildOptions = {}): Promise<XdmaSim> {
    const src = checkedInSource('xdma', params) ?? (await import('./elaborate.ts')).elaborateXdma(params);
    const built = await buildModel(src, opts);
    mkdirSync(dir, { recursive: true });
    const prefix = path.join(dir, 'xdma0');
    const sim = new XdmaSim(new Model(built), src.manifest!, prefix);
    for (const f of ['h2c_0', 'c2h_0']) {
      const p = `${prefix}_${f}`;
      rmSync(p, { force: true });
      const r = spawnSync('mkfifo', ['--', p], { encoding: 'utf8' }); // '--': a directory named like an option stays a path
      if (r.status !== 0) throw new Error(`xdma-sim: mkfifo ${p} failed: ${r.stderr || r.error?.message}`);
    }
    // Read-write opens of a FIFO do not wait for the other side, and never see end-of-file.
    sim.h2cFd = openSync(`${prefix}_h2c_0`, 'r+');
    sim.c2hFd = openSync(`${prefix}_c2h_0`, 'r+');
    sim.userFd = openSync(`${prefix}_user`, 'w+');
    sim.mirror();
    sim.readLoop();
    sim.poll = setInterval(() => sim.enqueue(() => sim.serviceControl()), 5);
    return sim;
  }

  private step(n: number): void {
    const r = this.model.run(this.clk, n, { from: this.next, highPs: 4000, lowPs: 4000 });
    this.next = r.next;
    this.cycles += r.cycles;
  }

  private set(name: string, v: number | bigint): void {
    this.model.setBits(this.ix(name), v);
  }

  /** Board DRAM traffic so far, every port together (undefined without DRAM): bursts and beats each way, error responses. */
  ddrStats(): AxiMemoryStats | undefined {
    return this.closed ? this.lastDdr : this.readDdr();
  }
  /** Every port's traffic added up. */
  private readDdr(): AxiMemoryStats | undefined {
    if (!this.ddr.length) return undefined;
    const all = this.ddr.map((id) => axiMemoryStats(this.model, id));
    return Object.fromEntries(Object.keys(all[0]!).map((k) => [k, all.reduce((s, a) => s + a[k as keyof AxiMemoryStats], 0)])) as unknown as AxiMemoryStats;
  }
  private lastDdr: AxiMemoryStats | undefined;

  /** One AXI4-Lite read through the RTL slave: the value and whether it answered OKAY. */
  axilRead(addr: number): { value: number; ok: boolean } {
    this.set('s_axil_araddr', addr);
    this.set('s_axil_arvalid', 1);
    this.step(1);
    this.set('s_axil_arvalid', 0);
    this.set('s_axil_rready', 1);
    const value = Number(this.model.getBits(this.ix('s_axil_rdata')));
    const ok = this.model.getSmall(this.ix('s_axil_rresp')) === 0;
    this.step(1);
    this.set('s_axil_rready', 0);
    return { value, ok };
  }

  axilWrite(addr: number, value: number): boolean {
    this.set('s_axil_awaddr', addr);
    this.set('s_axil_wdata', value >>> 0);
    this.set('s_axil_wstrb', 0xf);
    this.set('s_axil_awvalid', 1);
    this.set('s_axil_wvalid', 1);
    this.step(1);
    this.set('s_axil_awvalid', 0);
    this.set('s_axil_wvalid', 0);
    this.set('s_axil_bready', 1);
    const ok = this.model.getSmall(this.ix('s_axil_bresp')) === 0;
    this.step(1);
    this.set('s_axil_bready', 0);
    return ok;
  }

  /** The register bank, read over the bus, into the `_user` file. */
  private mirror(): void {
    const buf = Buffer.alloc(4 * NREGS);
    for (let i = 0; i < NREGS; i++) buf.writeUInt32LE(this.axilRead(4 * i).value >>> 0, 4 * i);
    writeSync(this.userFd, buf, 0, buf.length, 0);
  }

  /** A host write into CONTROL's word becomes a bus write (then the word reads 0 again). */
  private serviceControl(): void {
    const word = Buffer.alloc(4);
    if (readSync(this.userFd, word, 0, 4, XDMA_REG.CONTROL) !== 4) return;
    const v = word.readUInt32LE(0);
    if (v === 0) return;
    this.axilWrite(XDMA_REG.CONTROL, v);
    this.step(4);
    this.mirror();
  }

  private enqueue(work: () => void | Promise<void>): void {
    if (this.closed) return;
    this.running = this.running.then(() => (this.closed ? undefined : work())).catch((e: unknown) => {
      console.error(`xdma-sim: ${(e as Error).message}`);
    });
  }

  /** H2C: whatever the host writes becomes beats (a partial last beat has its tkeep cut). */
  private readLoop(): void {
    const buf = Buffer.alloc(1 << 16);
    const next = (): void => {
      if (this.closed) return;
      read(this.h2cFd, buf, 0, buf.length, null, (err, n) => {
        if (this.closed) return;
        if (err) {
          console.error(`xdma-sim: reading ${this.prefix}_h2c_0: ${err.message}`);
          return;
        }
        const bytes = Uint8Array.from(buf.subarray(0, n));
        this.enqueue(() => {
          this.serviceControl();
          return this.receive(bytes);
        });
        next();
      });
    };
    next();
  }

  private async receive(bytes: Uint8Array): Promise<void> {
    const n = Math.ceil(bytes.length / this.beatBytes);
    const words = new Uint32Array(n * this.beatWords);
    for (let b = 0; b < n; b++) {
      const chunk = bytes.subarray(b * this.beatBytes, (b + 1) * this.beatBytes);
      const base = b * this.beatWords;
      for (let i = 0; i < chunk.length; i++) words[base + (i >> 2)]! |= chunk[i]! << (8 * (i & 3));
      words[base + this.beatWords - 2] = chunk.length === 32 ? 0xffffffff : (2 ** chunk.length - 1) >>> 0;
      words[base + this.beatWords - 1] = b === n - 1 ? 1 : 0; // one host write is one H2C transfer
    }
    this.model.streamPush(this.h2c, words, n);
    await this.runUntilIdle();
  }

  private async runUntilIdle(): Promise<void> {
    const m = this.model;
    const busy = this.ix('busy');
    let packet: number[] = [];
    // close() stops the simulation between two steps rather than waiting for the work in progress.
    for (;;) {
      if (this.closed) return;
      this.step(CHUNK);
      const n = m.streamCaptured(this.c2h);
      if (n > 0) {
        const out = new Uint32Array(n * this.beatWords);
        m.streamTake(this.c2h, out, n);
        for (let b = 0; b < n; b++) {
          const base = b * this.beatWords;
          const keep = out[base + this.beatWords - 2]!;
          for (let i = 0; i < this.beatBytes; i++) if ((keep >>> i) & 1) packet.push((out[base + (i >> 2)]! >>> (8 * (i & 3))) & 0xff);
          if (out[base + this.beatWords - 1]) {
            await this.writeC2h(Uint8Array.from(packet)); // one C2H packet, one read() for the host
            if (this.closed) return; // close() may have freed the model meanwhile
            packet = [];
          }
        }
      }
      if (n === 0 && m.streamQueued(this.h2c) === 0 && m.getSmall(busy) === 0) break;
      await new Promise((r) => setImmediate(r)); // let close() and the host's reads in between steps
    }
    if (packet.length) await this.writeC2h(Uint8Array.from(packet));
    this.mirror();
  }

  private writeC2h(bytes: Uint8Array): Promise<void> {
    return writeAll(this.c2hFd, bytes).catch((err: Error) => {
      throw new Error(`xdma-sim: writing ${this.prefix}_c2h_0: ${err.message}`);
    });
  }

  /** Whether the work queue has finished within `ms` (its errors are reported where it runs). */
  private async settles(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const done = this.running.then(() => true, () => true);
    const late = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)));
    try {
      return await Promise.race([done, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.poll);
    if (!(await this.settles(200))) {
      // A host that stopped reading leaves answers in the C2H FIFO; once it holds 64 KiB the
      // step in progress waits in write() forever. Drain it (it is ours, opened read-write).
      const drain = openSync(`${this.prefix}_c2h_0`, constants.O_RDONLY | constants.O_NONBLOCK);
      const buf = Buffer.alloc(1 << 16);
      try {
        for (let t = 0; t < 50 && !(await this.settles(20)); t++) {
          try {
            while (readSync(drain, buf) > 0);
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
          }
        }
      } finally {
        closeSync(drain);
      }
      if (!(await this.settles(0))) throw new Error(`xdma-sim: the simulation step in progress did not stop within 1 s of close(); the model is left allocated`);
    }
    // The H2C read posted on the FIFO would hold the process open: release it.
    writeSync(this.h2cFd, Buffer.from([0]));
    for (const fd of [this.h2cFd, this.c2hFd, this.userFd]) if (fd >= 0) closeSync(fd);
    this.lastDdr = this.readDdr();
    this.model.free();
    for (const f of ['h2c_0', 'c2h_0']) if (existsSync(`${this.prefix}_${f}`)) rmSync(`${this.prefix}_${f}`);
  }
}
