// Elaborating a board configuration rtl/ does not hold: parameter overrides, or board-sim's
// simulated serial line. This is the one place the simulators load the generator (the HDL
// library and the cores), and board-sim and xdma-sim reach it only through `await import()`
// when such a configuration is asked for: with rtl/'s parameters they build the checked-in
// Verilog (sim/checked-in.ts), and the inference path never loads the generator.

import { emitCore, findCore, ownParams, resolveParams, CORES } from '../generator/cores/registry.ts';
import { emitDesign } from '../generator/hdl/index.ts';
import { validateBoard, type BoardParams } from '../generator/cores/board.ts';
import { serialLine, type SerialLineParams } from '../generator/boards/serial-line.ts';
import { emittedSource, type ModelSource } from './bridge/build.ts';
import { withXilinxPrims } from './vip/xilinx-prims.ts';

/** The board SoC's parameters checked against the generator's table (names, ranges) and completed with its defaults; throws ParamError. */
export function resolveBoardParams(params: Readonly<Record<string, string | number>>): Record<string, number> {
  const p = resolveParams(findCore('board'), params);
  // How the parameters relate (dual4 needs act=8, …) is checked here too, not first when the
  // SoC elaborates: the caller names its own flag (the backend spec) in the refusal.
  validateBoard(p as unknown as BoardParams);
  return p;
}

/** The board SoC: the byte-stream flavour, or with `line` the UART flavour behind a host-end UART (the same identity, the serial line simulated). */
export function elaborateBoard(params: Readonly<Record<string, number>>, line?: { hostBaud?: number }): ModelSource {
  const core = findCore('board');
  const own = ownParams(core, params);
  if (line) {
    const p = resolveParams(core, { ...own, phy: 1 });
    const lp = { ...p, hostBaud: line.hostBaud ?? p.baud! } as unknown as SerialLineParams;
    return withXilinxPrims(emittedSource(emitDesign(serialLine(lp), { extra: CORES.board!.extra!(p) })), p);
  }
  const p = resolveParams(core, { ...own, phy: 0 });
  return withXilinxPrims(emittedSource(emitCore(core, p)), p);
}

/** The PCIe top. */
export function elaborateXdma(params: Readonly<Record<string, number>>): ModelSource {
  const core = findCore('xdma');
  const p = resolveParams(core, ownParams(core, params));
  return withXilinxPrims(emittedSource(emitCore(core, p)), p);
}
