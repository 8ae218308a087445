// The pcie backend against `board-sim --xdma` in another process: the PCIe top under
// Verilator behind XDMA-style device files (FIFOs for the H2C/C2H streams, a file for the
// AXI4-Lite bank). The host code is the one that opens /dev/xdma0_*: results equal cpu
// bit for bit, the identity is checked in the register bank before any DMA, CONTROL
// resets the SoC, and missing devices or a foreign card are refused by name.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '../../host/backends/select.ts';
import { CpuBackend } from '../../host/backends/cpu.ts';
import { openXdma } from '../../host/link/xdma.ts';
import { LinkError } from '../../host/link/client.ts';
import { XDMA_REG } from '../../common/xdma-regs.ts';
import { packTernary } from '../../host/model/ternary.ts';
import { XorShift32, globalSeed } from '../../common/rng.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PARAMS = ['rows=4', 'cols=4', 'kmax=64', 'mmax=2', 'wdepth=1024', 'stage=8'];

/** Start board-sim --xdma; resolves when it prints its devices. */
async function startXdmaSim(dir: string, params = PARAMS): Promise<{ proc: ChildProcess; prefix: string; manifest: string; output(): string; stop(): Promise<void> }> {
  const proc = spawn(process.execPath, [path.join(ROOT, 'host/cli/bin.js'), 'board-sim', '--xdma', dir, ...params.flatMap((p) => ['-G', p])], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`board-sim --xdma did not start within 300 s:\n${out}\n${err}`)), 300_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/manifest /.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.on('exit', (code) => reject(new Error(`board-sim --xdma exited (${code}):\n${out}\n${err}`)));
  });
  const prefix = /use --backend pcie:(\S+)\)/.exec(out)![1]!;
  const manifest = /manifest (\S+)/.exec(out)![1]!;
  return {
    proc,
    prefix,
    manifest,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.on('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

/** Random ternary layers through the pcie backend and through cpu: every result equal. */
async function equalsCpu(prefix: string, manifest: string): Promise<void> {
  const rng = new XorShift32(globalSeed() ^ 5);
  const ws = Array.from({ length: 3 }, (_, i) => {
    const N = rng.int(1, 30);
    const K = rng.int(1, 150);
    return packTernary(`w${i}`, { rows: N, cols: K, data: Int8Array.from({ length: N * K }, () => rng.int(-1, 1)) }, { op: 'div', value: 1 });
  });
  const cpu = new CpuBackend();
  await cpu.load(ws);
  const pcie = await selectBackend(`pcie:${prefix}`, { boardManifest: manifest });
  try {
    await pcie.load(ws);
    for (let c = 0; c < 8; c++) {
      const i = rng.int(0, ws.length - 1);
      const M = rng.int(1, 5);
      const x = Int8Array.from({ length: M * ws[i]!.cols }, () => rng.int(-128, 127));
      const [a, b] = [await cpu.matmul(i, x, M), await pcie.matmul(i, x, M)];
      assert.equal(a.length, b.length);
      for (let k = 0; k < a.length; k++) assert.ok(a[k] === b[k], `call ${c}, weight ${i}, M=${M}: element ${k} is ${b[k]} on pcie, ${a[k]} on cpu`);
    }
    assert.equal(pcie.stats.retries, 0);
  } finally {
    await pcie.close();
  }
}

describe('host: the pcie backend over XDMA device files', function () {
  let sim: Awaited<ReturnType<typeof startXdmaSim>>;
  before(async () => {
    sim = await startXdmaSim(mkdtempSync(path.join(os.tmpdir(), 'xdma-')));
  });
  after(async () => {
    await sim?.stop();
  });

  it('equals cpu bit for bit (K split over kmax, M over mmax)', () => equalsCpu(sim.prefix, sim.manifest));

  it('the register bank: identity before DMA, counters, CONTROL reset', async () => {
    const { transport, regs } = await openXdma(sim.prefix);
    try {
      const manifest = JSON.parse((await import('node:fs')).readFileSync(sim.manifest, 'utf8'));
      assert.equal(regs.identity(), manifest.extra.board.identity);
      assert.equal(regs.read32(XDMA_REG.SHAPE), 4 | (4 << 8) | (8 << 16) | (2 << 24));
      assert.ok(regs.read32(XDMA_REG.RESPONSES) > 0, 'the previous test left responses counted');
      assert.equal(regs.read32(XDMA_REG.H2C_PACKETS), regs.read32(XDMA_REG.RESPONSES), 'one response per host write');
      regs.write32(XDMA_REG.CONTROL, 1);
      for (let i = 0; i < 100 && regs.read32(XDMA_REG.CONTROL) !== 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(regs.read32(XDMA_REG.CONTROL), 0, 'the reset was performed');
    } finally {
      await transport.close();
    }
  });

  it('a card with other RTL, a foreign card and missing devices are refused by name', async () => {
    // By name: the backend comes through a dynamic import, which mocha may load as a second module copy.
    await assert.rejects(selectBackend(`pcie:${sim.prefix}`), (e: unknown) => (e as Error).name === 'LinkError' && /xdma0_user: the card's RTL \(hash [0-9a-f]{16}…\) is not the RTL this host expects/.test((e as Error).message));
    const forced = await selectBackend(`pcie:${sim.prefix}`, { force: true });
    await forced.close();
    await assert.rejects(selectBackend('pcie:/nonexistent/xdma0'), /\/nonexistent\/xdma0_user: no such device .*modprobe xdma/);
    const fake = path.join(mkdtempSync(path.join(os.tmpdir(), 'xdma-fake-')), 'xdma0');
    writeFileSync(`${fake}_user`, Buffer.alloc(64));
    await assert.rejects(openXdma(fake), /xdma0_user: MAGIC reads 0x00000000, expected 0xb17f0001/);
    writeFileSync(`${fake}_user`, Buffer.alloc(2));
    await assert.rejects(openXdma(fake), /register read at 0x0 returned 2 of 4 bytes/);
  });
});

describe('host: the pcie backend, weights in board DRAM (m_axi_ddr and the AXI4 memory model)', function () {
  let sim: Awaited<ReturnType<typeof startXdmaSim>>;
  before(async () => {
    sim = await startXdmaSim(mkdtempSync(path.join(os.tmpdir(), 'xdma-ddr-')), [...PARAMS, 'dram=32', 'mbase=65536']);
  });
  after(async () => {
    await sim?.stop();
  });

  it('equals cpu bit for bit, with every tile through DRAM and STATUS clean', async () => {
    assert.match(sim.output(), /board_4x4_xdma64_ddr32/);
    await equalsCpu(sim.prefix, sim.manifest);
    const { transport, regs } = await openXdma(sim.prefix);
    try {
      assert.equal(regs.read32(XDMA_REG.STATUS) & 4, 0, 'no DRAM error latched');
    } finally {
      await transport.close();
    }
    await sim.stop();
    const m = /board DRAM: (\d+) read bursts \/ (\d+) beats, (\d+) write bursts \/ (\d+) beats, (\d+) error/.exec(sim.output());
    assert.ok(m, `board-sim reports its DRAM traffic on exit:\n${sim.output()}`);
    const [readBursts, , writeBursts, , errors] = m.slice(1).map(Number);
    assert.ok(readBursts! > 0 && writeBursts! > 0, `weights went through DRAM (${m[0]})`);
    assert.equal(errors, 0);
  });
});

describe('host: the pcie backend, trit5 tiles split across 2 DRAM ports (m_axi_ddr0/1)', function () {
  let sim: Awaited<ReturnType<typeof startXdmaSim>>;
  before(async () => {
    // A 4x10 trit5 tile is 8 bytes: 4 per 32-bit master, each beat full (what 16x20 is on 512 bits).
    sim = await startXdmaSim(mkdtempSync(path.join(os.tmpdir(), 'xdma-ddr2-')), ['rows=4', 'cols=10', 'format=5', 'kmax=64', 'mmax=2', 'wdepth=1024', 'stage=8', 'dram=32', 'ports=2']);
  });
  after(async () => {
    await sim?.stop();
  });

  it('equals cpu bit for bit, every tile through both ports', async () => {
    assert.match(sim.output(), /board_4x10_xdma64_ddr32_f5_.*_p2/);
    await equalsCpu(sim.prefix, sim.manifest);
    await sim.stop();
    const m = /board DRAM: (\d+) read bursts \/ (\d+) beats, (\d+) write bursts \/ (\d+) beats, (\d+) error/.exec(sim.output());
    assert.ok(m, `board-sim reports its DRAM traffic on exit:\n${sim.output()}`);
    const [readBursts, , writeBursts, writeBeats, errors] = m.slice(1).map(Number);
    assert.ok(readBursts! > 0 && writeBursts! > 0, `weights went through DRAM (${m[0]})`);
    assert.equal(writeBeats! % 2, 0, 'each tile is one beat on each of the 2 ports');
    assert.equal(errors, 0);
  });
});
