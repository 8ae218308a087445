// board-sim behind a pseudo-terminal: socat makes a pty pair, BoardSim sits on one end,
// and the other end is a serial port any program can open. Used by `board-sim --pty`, the
// end-to-end demo and the tests. The SoC's manifest is written beside the pty so a host in
// another process can check the board's identity against it.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BoardSim } from './board-sim.ts';
import { openSerial } from '../host/link/serial.ts';
import { requireTool } from './toolchain/tools.ts';
import type { BuildOptions } from './bridge/build.ts';

export interface BoardPty {
  /** The host's end: open it as a serial port. */
  readonly path: string;
  /** The identity hash the board reports. */
  readonly identity: string;
  /** The SoC's manifest (JSON), written next to the pty. */
  readonly manifestPath: string;
  readonly sim: BoardSim;
  close(): Promise<void>;
}

export async function startBoardPty(params: Record<string, number>, opts: { link?: string; build?: BuildOptions; onExit?: (why: string) => void; line?: { hostBaud?: number } } = {}): Promise<BoardPty> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bitnet-board-sim-'));
  const hostEnd = opts.link ?? path.join(dir, 'tty');
  const boardEnd = path.join(dir, 'board');
  const socat = spawn(requireTool('socat'), [`pty,raw,echo=0,link=${hostEnd}`, `pty,raw,echo=0,link=${boardEnd}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let socatErr = '';
  socat.stderr.on('data', (d: Buffer) => (socatErr += d.toString()));
  for (let i = 0; i < 250 && !(existsSync(hostEnd) && existsSync(boardEnd)); i++) await new Promise((r) => setTimeout(r, 20));
  if (!existsSync(hostEnd) || !existsSync(boardEnd)) {
    socat.kill();
    throw new Error(`board-sim: socat did not create the pseudo-terminal ${hostEnd} within 5 s: ${socatErr.trim() || 'no message'}`);
  }
  const port = await openSerial(boardEnd, 115200).catch((e: unknown) => {
    socat.kill();
    throw e;
  });
  let sim: BoardSim;
  try {
    sim = await BoardSim.create(params, (bytes) => void port.write(bytes).catch(() => {}), opts.build, opts.line);
  } catch (e) {
    await port.close();
    socat.kill();
    throw e;
  }
  port.onData((bytes) => sim.receive(bytes));
  const manifestPath = path.join(dir, 'board.manifest.json');
  writeFileSync(manifestPath, JSON.stringify(sim.manifest, null, 2));
  let closed = false;
  socat.on('exit', () => {
    if (!closed) opts.onExit?.(`socat exited: ${socatErr.trim() || 'no message'}`);
  });
  return {
    path: hostEnd,
    identity: (sim.manifest.extra as { board: { identity: string } }).board.identity,
    manifestPath,
    sim,
    async close() {
      if (closed) return;
      closed = true;
      await port.close();
      socat.kill();
      await sim.close();
    },
  };
}
