// `bitnet-fpga board-sim --pty`: the board SoC under Verilator behind a pseudo-terminal,
// so the host's real serial code talks to it byte for byte. Runs until interrupted.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ParamError, parseParamArgs } from '../../../generator/cores/registry.ts';
import { requireTool } from '../../../sim/toolchain/tools.ts';

export async function boardSimCommand(o: { pty?: boolean; link?: string; param: string[]; phy?: boolean }): Promise<void> {
  if (!o.pty) throw new ParamError('board-sim: pass --pty (the only transport so far)');
  if (o.phy) throw new ParamError('board-sim --phy (the serial line simulated at bit level) is not implemented yet; without it bytes enter and leave at the UART FIFOs');
  const { BoardSim } = await import('../../../sim/board-sim.ts');
  const { openSerial } = await import('../../../host/link/serial.ts');
  const params = Object.fromEntries(Object.entries(parseParamArgs(o.param)).map(([k, v]) => [k, Number(v)]));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bitnet-board-sim-'));
  const hostEnd = o.link ?? path.join(dir, 'tty');
  const boardEnd = path.join(dir, 'board');
  const socat = spawn(requireTool('socat'), [`pty,raw,echo=0,link=${hostEnd}`, `pty,raw,echo=0,link=${boardEnd}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let socatErr = '';
  socat.stderr.on('data', (d: Buffer) => (socatErr += d.toString()));
  for (let i = 0; i < 250 && !(existsSync(hostEnd) && existsSync(boardEnd)); i++) await new Promise((r) => setTimeout(r, 20));
  if (!existsSync(hostEnd)) throw new ParamError(`board-sim: socat did not create the pseudo-terminal ${hostEnd}: ${socatErr.trim() || 'no message'}`);
  const port = await openSerial(boardEnd, 115200);
  const sim = await BoardSim.create(params, (bytes) => void port.write(bytes));
  port.onData((bytes) => sim.receive(bytes));
  const id = (sim.manifest.extra as { board: { identity: string } }).board.identity;
  console.log(`board-sim: ${sim.manifest.top} (identity ${id.slice(0, 16)}…) is listening on ${hostEnd}`);
  const stop = (): void => {
    socat.kill();
    void sim.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  socat.on('exit', () => {
    console.error('board-sim: socat exited; stopping');
    void sim.close().then(() => process.exit(1));
  });
  await new Promise(() => {});
}
