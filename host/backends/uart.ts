// The uart backend: a board (or board-sim's pseudo-terminal) over a serial port.

import { LinkClient } from '../link/client.ts';
import { openSerial } from '../link/serial.ts';
import { BoardBackend } from './board.ts';
import { MAX_PAYLOAD } from '../../common/protocol.ts';

export async function uartBackend(port: string, baud: number, o: { expectedHash?: string; force?: boolean; reload?: boolean; timeoutMs?: number } = {}): Promise<BoardBackend> {
  const transport = await openSerial(port, baud);
  // A MATMUL answer can be long at a low baud rate: allow its bytes' time on the wire, twice over.
  const client = new LinkClient(transport, { timeoutMs: o.timeoutMs ?? 2000, retries: 3, matmulTimeoutMs: Math.max(30_000, (MAX_PAYLOAD * 10 * 2 * 1000) / baud) });
  return new BoardBackend(`uart:${port}@${baud}`, client, { expectedHash: o.expectedHash, force: o.force, reload: o.reload });
}
