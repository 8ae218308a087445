// `bitnet-fpga board-sim --pty`: the board SoC under Verilator behind a pseudo-terminal,
// so the host's real serial code talks to it byte for byte. Runs until interrupted.

import { ParamError, parseParamArgs } from '../../../generator/cores/registry.ts';
import { readBoardManifest, DEFAULT_PCIE_MANIFEST } from '../../backends/select.ts';

export async function boardSimCommand(o: { pty?: boolean; link?: string; param: string[]; phy?: boolean; hostBaud?: string; xdma?: string }): Promise<void> {
  if (o.xdma !== undefined) return xdmaSim(o.xdma, o.param);
  if (!o.pty) throw new ParamError('board-sim: pass --pty (a serial port) or --xdma DIR (XDMA device files)');
  if (o.hostBaud !== undefined && !o.phy) throw new ParamError('board-sim: --host-baud needs --phy (without it no serial line is simulated)');
  const hostBaud = o.hostBaud === undefined ? undefined : Number(o.hostBaud);
  if (hostBaud !== undefined && !(Number.isInteger(hostBaud) && hostBaud > 0)) throw new ParamError(`board-sim: --host-baud ${o.hostBaud}: expected a positive integer (baud)`);
  const { startBoardPty } = await import('../../../sim/board-pty.ts');
  // rtl/board's parameters, with any overrides: what a board built from rtl/ would be.
  const base = readBoardManifest().params;
  const over = Object.fromEntries(Object.entries(parseParamArgs(o.param)).map(([k, v]) => [k, Number(v)]));
  const params: Record<string, number> = { ...base, ...over };
  const board = await startBoardPty(params, {
    link: o.link,
    line: o.phy ? { hostBaud } : undefined,
    onExit: (why) => {
      console.error(`board-sim: ${why}; stopping`);
      void board.close().then(() => process.exit(1));
    },
  });
  console.log(`board-sim: ${board.sim.manifest.top} (${params.rows}x${params.cols}, int${params.act}, ${params.wdepth} weight tiles; identity ${board.identity.slice(0, 16)}…)`);
  if (o.phy) console.log(`board-sim: serial line simulated bit by bit at ${params.baud} baud (host end ${hostBaud ?? params.baud})`);
  console.log(`board-sim: listening on ${board.path}`);
  console.log(`board-sim: manifest ${board.manifestPath}${Object.keys(over).length ? ' (pass it to run with --board-manifest: the parameters differ from rtl/board)' : ''}`);
  const stop = (): void => void board.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  await new Promise(() => {});
}

/** The PCIe top behind XDMA-style device files in `dir`, until interrupted. */
async function xdmaSim(dir: string, param: string[]): Promise<void> {
  const { XdmaSim } = await import('../../../sim/xdma-sim.ts');
  const { writeFileSync } = await import('node:fs');
  const path = await import('node:path');
  const base = readBoardManifest(DEFAULT_PCIE_MANIFEST()).params;
  const over = Object.fromEntries(Object.entries(parseParamArgs(param)).map(([k, v]) => [k, Number(v)]));
  const params: Record<string, number> = { ...base, ...over };
  const sim = await XdmaSim.create(params, dir);
  const manifestPath = path.join(dir, 'xdma0.manifest.json');
  writeFileSync(manifestPath, JSON.stringify(sim.manifest, null, 2));
  const identity = (sim.manifest.extra as { board: { identity: string } }).board.identity;
  console.log(`board-sim: ${sim.manifest.top} (${params.rows}x${params.cols}, int${params.act}, ${params.wdepth} weight tiles; identity ${identity.slice(0, 16)}…)`);
  console.log(`board-sim: XDMA devices ${sim.prefix}_user, ${sim.prefix}_h2c_0, ${sim.prefix}_c2h_0 (use -b pcie:${sim.prefix})`);
  console.log(`board-sim: manifest ${manifestPath}${Object.keys(over).length ? ' (pass it to run with --board-manifest: the parameters differ from rtl/xdma)' : ''}`);
  const stop = (): void =>
    void sim.close().then(() => {
      const d = sim.ddrStats();
      if (d) console.log(`board-sim: board DRAM: ${d.readBursts} read bursts / ${d.readBeats} beats, ${d.writeBursts} write bursts / ${d.writeBeats} beats, ${d.errors} error responses`);
      process.exit(0);
    });
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  await new Promise(() => {});
}
