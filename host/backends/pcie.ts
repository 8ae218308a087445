// The pcie backend: a board behind the Xilinx XDMA driver's character devices
// (`pcie:/dev/xdma0` opens /dev/xdma0_user, _h2c_0 and _c2h_0), or xdma-sim's files.
// The identity is checked twice: in the AXI4-Lite bank before any DMA, then by IDENTIFY.

import { LinkClient, LinkError } from '../link/client.ts';
import { openXdma } from '../link/xdma.ts';
import { XDMA_REG, XDMA_STATUS } from '../../common/xdma-regs.ts';
import { BoardBackend } from './board.ts';

export async function pcieBackend(prefix: string, o: { expectedHash?: string; force?: boolean; reload?: boolean; timeoutMs?: number } = {}): Promise<BoardBackend> {
  const { transport, regs } = await openXdma(prefix);
  if (o.expectedHash && !o.force) {
    const hash = regs.identity();
    if (hash !== o.expectedHash) {
      await transport.close();
      throw new LinkError(`${regs.path}: the card's RTL (hash ${hash.slice(0, 16)}…) is not the RTL this host expects (${o.expectedHash.slice(0, 16)}…); load the matching bitstream, point --board-manifest at its manifest, or pass --force`);
    }
  }
  const client = new LinkClient(transport, { timeoutMs: o.timeoutMs ?? 2000, retries: 3, matmulTimeoutMs: 30_000 });
  // A DRAM fault cannot travel in a response that was already under way: the card latches it in STATUS.
  const checkHealth = (): void => {
    if (regs.read32(XDMA_REG.STATUS) & XDMA_STATUS.DDR_ERROR) throw new LinkError(`${regs.path}: STATUS bit 2: the card's board DRAM answered a weight access with SLVERR/DECERR, so its weights or results cannot be trusted; check the memory controller, then reset the card (CONTROL) and load again`);
  };
  return new BoardBackend(`pcie:${prefix}`, client, { expectedHash: o.expectedHash, force: o.force, reload: o.reload, checkHealth });
}
