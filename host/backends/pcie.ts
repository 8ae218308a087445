// The pcie backend: a board behind the Xilinx XDMA driver's character devices.

import { BackendError } from './backend.ts';
import type { BoardBackend } from './board.ts';

export async function pcieBackend(prefix: string, _o: object): Promise<BoardBackend> {
  throw new BackendError(`backend pcie:${prefix}: not implemented yet (the XDMA top and its host transport are still open in issue 6); use sim, uart or cpu`);
}
