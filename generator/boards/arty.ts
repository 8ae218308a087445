// The Arty A7 top (XC7A35T or XC7A100T, 100 MHz oscillator): the board SoC on the USB
// serial bridge (the FT2232's second channel), the red RESET button (ck_rst, active low)
// as the SoC's reset, and LD4..LD7: LD4 while the core computes, LD5 once the UART has
// seen a framing error or an overrun. Port names are Digilent's, as in
// constraints/arty-a7/arty-a7.xdc.

import { defineModule, UInt, Bool, cat, lit } from '../hdl/index.ts';
import { board, validateBoard, TOP_TAGS, type BoardParams } from '../cores/board.ts';
import { nameWith } from '../cores/naming.ts';
import { BOARD_PARAMS, defaultsOf } from '../cores/param-table.ts';

export const ARTY_CLK = 100_000_000;

/** What differs from the board SoC's defaults. */
export const ARTY_DEFAULTS: Readonly<Record<string, number>> = { rows: 8, cols: 8, kmax: 4096, mmax: 8, wdepth: 4096, stage: 16 };

export const artyTop = defineModule(
  'arty_top',
  (m, p: BoardParams) => {
    m.domain('sync', { clk: 'CLK100MHZ', rst: null });
    const ckRst = m.input('ck_rst', Bool);
    const rx = m.input('uart_txd_in', Bool); // named from the bridge's side: its TXD is our RX
    const tx = m.output('uart_rxd_out', Bool);
    const led = m.output('led', UInt(4));
    // The button is asynchronous to the clock: two flip-flops before it resets anything.
    // Both power up in reset, so the SoC starts from a reset after configuration too.
    const rstSync = m.reg('rst_sync', UInt(2), { init: 0 });
    m.set(rstSync, cat(rstSync.bit(0), ckRst));
    const soc = m.instance('soc', board({ ...p, phy: 1, clk: ARTY_CLK }));
    m.set(m.portOf('soc', 'rst'), rstSync.bit(1).not());
    m.set(soc.uartRx!, rx);
    m.set(tx, soc.uartTx!);
    const linkFault = m.portOf('soc', 'uart_frame_errors').orReduce().or(m.portOf('soc', 'uart_overruns').orReduce());
    m.set(led, cat(lit(0, UInt(2)), linkFault, soc.busy));
    return {};
  },
  {
    name: (p) => nameWith('arty_top', p, TOP_TAGS, { ...defaultsOf(BOARD_PARAMS), ...ARTY_DEFAULTS }),
    validate: (p) => {
      if (p.clk !== ARTY_CLK) throw new RangeError(`clk=${p.clk}: the Arty A7's oscillator is ${ARTY_CLK} Hz`);
      validateBoard({ ...p, phy: 1 });
    },
  },
);
