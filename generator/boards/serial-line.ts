// board-sim --phy: the board SoC with its UART pins wired to a second UART, the host's
// end of the serial line, so every byte crosses the line bit by bit (start bit, 8 data
// bits, stop bit) in simulation, and the host end may run at a slightly different baud
// rate, as a real USB-serial bridge does. Outside, the same byte streams as the
// byte-stream board, so board-sim drives either the same way.

import { defineModule, Bool, bundlePorts, connectBundle } from '../hdl/index.ts';
import { board, validateBoard, BYTES, UART_DEPTH, BOARD_TAGS, UART_TAGS, type BoardParams } from '../cores/board.ts';
import { nameWith } from '../cores/naming.ts';
import { BOARD_PARAMS, defaultsOf } from '../cores/param-table.ts';
import { uart } from '../cores/uart.ts';

export interface SerialLineParams extends BoardParams {
  /** The host end's baud rate (the board's is `baud`). */
  readonly hostBaud: number;
}

export const serialLine = defineModule(
  'serial_line',
  (m, p: SerialLineParams) => {
    const rx = bundlePorts(m, 'rx', BYTES, 'sink');
    const tx = bundlePorts(m, 'tx', BYTES, 'source');
    const busy = m.output('busy', Bool);
    // Bytes on their way: in the host end's FIFOs or on the wire (for knowing when the board is idle).
    const inFlight = m.output('in_flight', Bool);
    const soc = m.instance('soc', board({ ...p, phy: 1 }));
    const host = m.instance('host', uart({ clk: p.clk, baud: p.hostBaud, depth: UART_DEPTH }));
    m.set(soc.uartRx!, host.tx);
    m.set(host.rx, soc.uartTx!);
    connectBundle(m, BYTES, host.in, rx);
    connectBundle(m, BYTES, tx, host.out);
    m.set(busy, soc.busy);
    const levels = [host.txLevel, host.rxLevel, m.portOf('soc', 'uart_tx_level'), m.portOf('soc', 'uart_rx_level')];
    // A byte being shifted out is not in any FIFO; the lines sit at 1 when idle.
    m.set(inFlight, levels.map((l) => l.orReduce()).reduce((a, b) => a.or(b)).or(host.tx.not()).or(soc.uartTx!.not()));
    return { rx, tx, busy, inFlight };
  },
  {
    name: (p) => nameWith(`serial_line_${p.rows}x${p.cols}`, p, [...BOARD_TAGS, ...UART_TAGS, ['hostBaud', 'h']], defaultsOf(BOARD_PARAMS)),
    validate: (p) => {
      validateBoard({ ...p, phy: 1 });
      if (!(p.hostBaud * 16 <= p.clk)) throw new RangeError(`hostBaud=${p.hostBaud}: at most clk/16 = ${Math.floor(p.clk / 16)}`);
    },
  },
);
