// The sim backend: the board SoC (byte-stream flavour) under Verilator in this process,
// reached through the same link client and protocol as a real board, so everything but
// the wire is what a board run exercises.

import { BoardSim } from '../../sim/board-sim.ts';
import { LinkClient, type Transport } from '../link/client.ts';
import { BoardBackend } from './board.ts';

export async function simBackend(params: Record<string, number>, opts: { reload?: boolean; log?: (line: string) => void } = {}): Promise<BoardBackend> {
  let receive: (bytes: Uint8Array) => void = () => {};
  const sim = await BoardSim.create(params, (bytes) => receive(bytes), { log: opts.log });
  const transport: Transport = {
    name: `board-sim ${sim.manifest.top} (in-process)`,
    write: async (bytes) => sim.receive(bytes),
    onData: (cb) => (receive = cb),
    close: async () => {},
  };
  const identity = (sim.manifest.extra as { board: { identity: string } }).board.identity;
  const client = new LinkClient(transport, { timeoutMs: 30_000, retries: 0, matmulTimeoutMs: 120_000 });
  const p = sim.manifest.params as Record<string, number>;
  return new BoardBackend(`sim (board ${p.rows}x${p.cols}${p.jmax ? `, table-lookup jmax ${p.jmax}` : ''}${p.dual4 ? ', dual4' : ''}, wdepth ${p.wdepth})`, client, { expectedHash: identity, reload: opts.reload, onClose: () => sim.close() });
}
