// `bitnet-fpga board-sim --pty`: the board SoC under Verilator behind a pseudo-terminal,
// so the host's real serial code talks to it byte for byte. Runs until interrupted: the
// first SIGINT/SIGTERM closes it within STOP_GRACE_MS even if the simulation is stuck
// (exit 130/143), a second exits at once; its temporary files go either way (cleanup.ts).

import { CORES, ownParams, ParamError, parseParamArgs, resolveParams, type CoreEntry } from '../../../generator/cores/registry.ts';
import { readBoardManifest, DEFAULT_PCIE_MANIFEST } from '../../backends/select.ts';
import { onInterrupt } from '../../../sim/toolchain/cleanup.ts';
import { PARAM_FLAGS } from '../flags.ts';

/** How long a stop waits for the simulation to close before exiting anyway. */
const STOP_GRACE_MS = 2000;

export async function boardSimCommand(o: { pty?: boolean; link?: string; param: string[]; phy?: boolean; hostBaud?: number; xdma?: string }): Promise<void> {
  if (o.xdma !== undefined) return xdmaSim(o.xdma, o.param);
  if (!o.pty) throw new ParamError('board-sim: pass --pty (a serial port) or --xdma DIR (XDMA device files)');
  if (o.hostBaud !== undefined && !o.phy) throw new ParamError('board-sim: --host-baud needs --phy (without it no serial line is simulated)');
  const hostBaud = o.hostBaud; // bounded by the option table (main.ts)
  const { startBoardPty, ptyLinkProblem, showPath } = await import('../../../sim/board-pty.ts');
  if (o.link !== undefined) {
    const why = ptyLinkProblem(o.link);
    if (why) throw new ParamError(`board-sim: --link ${showPath(o.link)}: ${why}`);
  }
  // rtl/board's parameters, with any overrides: what a board built from rtl/ would be.
  const base = readBoardManifest().params;
  const over = checkedOverrides(CORES.board!, base, o.param);
  const params: Record<string, number> = { ...base, ...over };
  const board = await startBoardPty(params, {
    link: o.link,
    line: o.phy ? { hostBaud } : undefined,
    onExit: (why) => {
      console.error(`board-sim: ${why}; stopping`);
      setTimeout(() => process.exit(1), STOP_GRACE_MS);
      void board.close().then(() => process.exit(1));
    },
  });
  onInterrupt(() => board.close(), { graceMs: STOP_GRACE_MS });
  console.log(`board-sim: ${board.sim.manifest.top} (${params.rows}x${params.cols}, int${params.act}, ${params.wdepth} weight tiles; identity ${board.identity.slice(0, 16)}…)`);
  if (o.phy) console.log(`board-sim: serial line simulated bit by bit at ${params.baud} baud (host end ${hostBaud ?? params.baud})`);
  console.log(`board-sim: listening on ${board.path}`);
  console.log(`board-sim: manifest ${board.manifestPath}${Object.keys(over).length ? ' (pass it to run with --board-manifest: the parameters differ from rtl/board)' : ''}`);
  await new Promise(() => {});
}

/**
 * The -G/--param overrides as numbers, each checked against the core's parameter table like
 * `generate` does (unknown names and values out of range refused, naming the -G argument).
 */
function checkedOverrides(core: CoreEntry, base: Readonly<Record<string, number>>, args: readonly string[]): Record<string, number> {
  const given = parseParamArgs(args, PARAM_FLAGS);
  const own = ownParams(core, base);
  const out: Record<string, number> = {};
  for (const [k, raw] of Object.entries(given)) {
    try {
      out[k] = resolveParams(core, { ...own, [k]: raw })[k]!;
    } catch (e) {
      throw e instanceof ParamError ? new ParamError(`board-sim: -G ${k}=${raw}: ${e.message}`) : e;
    }
  }
  return out;
}

/** The PCIe top behind XDMA-style device files in `dir`, until interrupted. */
async function xdmaSim(dir: string, param: string[]): Promise<void> {
  const base = readBoardManifest(DEFAULT_PCIE_MANIFEST()).params;
  const over = checkedOverrides(CORES.xdma!, base, param);
  const { makeDirs } = await import('../out-dir.ts');
  makeDirs(dir, '--xdma'); // one line for a path that cannot be a directory (and no endless mkdir under /proc)
  const { XdmaSim } = await import('../../../sim/xdma-sim.ts');
  const { writeFileSync } = await import('node:fs');
  const path = await import('node:path');
  const params: Record<string, number> = { ...base, ...over };
  const sim = await XdmaSim.create(params, dir);
  const manifestPath = path.join(dir, 'xdma0.manifest.json');
  writeFileSync(manifestPath, JSON.stringify(sim.manifest, null, 2));
  const identity = (sim.manifest.extra as { board: { identity: string } }).board.identity;
  console.log(`board-sim: ${sim.manifest.top} (${params.rows}x${params.cols}, int${params.act}, ${params.wdepth} weight tiles; identity ${identity.slice(0, 16)}…)`);
  console.log(`board-sim: XDMA devices ${sim.prefix}_user, ${sim.prefix}_h2c_0, ${sim.prefix}_c2h_0 (use --backend pcie:${sim.prefix})`);
  console.log(`board-sim: manifest ${manifestPath}${Object.keys(over).length ? ' (pass it to run with --board-manifest: the parameters differ from rtl/xdma)' : ''}`);
  onInterrupt(
    () =>
      sim.close().then(() => {
        const d = sim.ddrStats();
        if (d) console.log(`board-sim: board DRAM: ${d.readBursts} read bursts / ${d.readBeats} beats, ${d.writeBursts} write bursts / ${d.writeBeats} beats, ${d.errors} error responses`);
      }),
    { graceMs: STOP_GRACE_MS },
  );
  await new Promise(() => {});
}
