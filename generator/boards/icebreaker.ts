// The iCEBreaker (iCE40UP5K-SG48) top: the board SoC on the FTDI's second channel (the
// board's USB serial port), with the glue a board needs and the SoC does not: a power-on
// reset, the user button as a manual reset, and two LEDs (green while the core computes,
// red once the UART has seen a framing error or an overrun: a baud mismatch, or a noisy
// line). Port names are the pin names of constraints/icebreaker/icebreaker.pcf.

import { defineModule, UInt, Bool, cat } from '../hdl/index.ts';
import { board, validateBoard, TOP_TAGS, type BoardParams } from '../cores/board.ts';
import { nameWith } from '../cores/naming.ts';
import { BOARD_PARAMS, defaultsOf } from '../cores/param-table.ts';

/** The iCEBreaker's oscillator. */
export const ICEBREAKER_CLK = 12_000_000;

/** The largest SoC that places on the UP5K with room to spare (constraints/README.md): what differs from the board SoC's defaults. */
export const ICEBREAKER_DEFAULTS: Readonly<Record<string, number>> = { rows: 4, cols: 4, kmax: 1024, mmax: 2, wdepth: 1024, stage: 16 };

export const icebreakerTop = defineModule(
  'icebreaker_top',
  (m, p: BoardParams) => {
    // No reset port: the board makes its own.
    m.domain('sync', { clk: 'CLK', rst: null });
    const rx = m.input('RX', Bool);
    const tx = m.output('TX', Bool);
    const btnN = m.input('BTN_N', Bool);
    const ledR = m.output('LEDR_N', Bool);
    const ledG = m.output('LEDG_N', Bool);
    // iCE40 flip-flops load their INIT value at configuration, so the power-on counter
    // needs no reset of its own.
    const por = m.reg('por', UInt(6), { init: 0 });
    m.when(por.bit(5).not(), () => m.set(por, por.add(1)));
    // The button is asynchronous to CLK: two flip-flops before it resets anything.
    const btnSync = m.reg('btn_sync', UInt(2), { init: 0b11 });
    m.set(btnSync, cat(btnSync.bit(0), btnN));
    const rst = m.let('rst', por.bit(5).not().or(btnSync.bit(1).not()));

    const soc = m.instance('soc', board({ ...p, phy: 1, clk: ICEBREAKER_CLK }));
    m.set(m.portOf('soc', 'rst'), rst);
    m.set(soc.uartRx!, rx);
    m.set(tx, soc.uartTx!);
    m.set(ledG, soc.busy.not());
    const linkFault = m.portOf('soc', 'uart_frame_errors').orReduce().or(m.portOf('soc', 'uart_overruns').orReduce());
    m.set(ledR, linkFault.not());
    return {};
  },
  {
    name: (p) => nameWith('icebreaker_top', p, TOP_TAGS, { ...defaultsOf(BOARD_PARAMS), ...ICEBREAKER_DEFAULTS }),
    validate: (p) => {
      if (p.clk !== ICEBREAKER_CLK) throw new RangeError(`clk=${p.clk}: the iCEBreaker's oscillator is ${ICEBREAKER_CLK} Hz`);
      validateBoard({ ...p, phy: 1 });
    },
  },
);
