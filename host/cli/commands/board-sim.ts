// `bitnet-fpga board-sim --pty`: the board SoC under Verilator behind a pseudo-terminal,
// so the host's real serial code talks to it byte for byte. Runs until interrupted.

import { ParamError, parseParamArgs } from '../../../generator/cores/registry.ts';
import { readBoardManifest } from '../../backends/select.ts';

export async function boardSimCommand(o: { pty?: boolean; link?: string; param: string[]; phy?: boolean }): Promise<void> {
  if (!o.pty) throw new ParamError('board-sim: pass --pty (the only transport so far)');
  if (o.phy) throw new ParamError('board-sim --phy (the serial line simulated at bit level) is not implemented yet; without it bytes enter and leave at the UART FIFOs');
  const { startBoardPty } = await import('../../../sim/board-pty.ts');
  // rtl/board's parameters, with any overrides: what a board built from rtl/ would be.
  const base = readBoardManifest().params;
  const over = Object.fromEntries(Object.entries(parseParamArgs(o.param)).map(([k, v]) => [k, Number(v)]));
  const params: Record<string, number> = { ...base, ...over };
  const board = await startBoardPty(params, {
    link: o.link,
    onExit: (why) => {
      console.error(`board-sim: ${why}; stopping`);
      void board.close().then(() => process.exit(1));
    },
  });
  console.log(`board-sim: ${board.sim.manifest.top} (${params.rows}x${params.cols}, int${params.act}, ${params.wdepth} weight tiles; identity ${board.identity.slice(0, 16)}…)`);
  console.log(`board-sim: listening on ${board.path}`);
  console.log(`board-sim: manifest ${board.manifestPath}${Object.keys(over).length ? ' (pass it to run with --board-manifest: the parameters differ from rtl/board)' : ''}`);
  const stop = (): void => void board.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  await new Promise(() => {});
}
