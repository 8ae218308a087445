// An 8N1 UART for the board's serial link: transmitter and receiver, each behind a FIFO,
// valid/ready on the fabric side. Bit timing comes from phase accumulators (add the baud
// rate, wrap at the clock rate), so any clock/baud pair is exact on average instead of
// off by a rounded divisor. The receiver oversamples 16x: it confirms the start bit at
// its middle and samples every data bit at its middle, which tolerates a baud mismatch
// of a few percent (the theoretical limit is about (8 - 1) / 16 of a bit over 9.5 bits,
// ±4.6 %); a low stop bit is a framing error and the byte is dropped and counted.

import { defineModule, UInt, Bool, bundlePorts, streamSpec, mux, widthFor, hdlEnum } from '../hdl/index.ts';
import { fifo } from './fifo.ts';
import { nameWith } from './naming.ts';
import { checkParam, defaultsOf, UART_PARAMS } from './param-table.ts';

export interface UartParams {
  /** Clock frequency in Hz. */
  readonly clk: number;
  readonly baud: number;
  /** FIFO depth on each side (a power of two). */
  readonly depth: number;
  [k: string]: number;
}

export function validateUart(p: UartParams): void {
  checkParam(UART_PARAMS, 'clk', p.clk);
  if (!Number.isInteger(p.baud) || p.baud < 300 || 16 * p.baud > p.clk) throw new RangeError(`baud=${p.baud}: must be at least 300 and at most clk/16 = ${Math.floor(p.clk / 16)} (16x oversampling)`);
  checkParam(UART_PARAMS, 'depth', p.depth);
}

/** The receiver's states. */
const RxState = hdlEnum('rx_state', ['IDLE', 'START', 'DATA', 'STOP'], { prefix: 'RX_' });

export const uart = defineModule(
  'uart',
  (m, p: UartParams) => {
    const rx = m.input('rx', Bool);
    const tx = m.output('tx', Bool, { reg: { reset: 1, init: 1 } });
    const inp = bundlePorts(m, 'in', streamSpec(UInt(8)), 'sink');
    const out = bundlePorts(m, 'out', streamSpec(UInt(8)), 'source');
    const frameErrors = m.output('frame_errors', UInt(8), { reg: {} });
    const overruns = m.output('overruns', UInt(8), { reg: {} });
    const lw = Math.log2(p.depth) + 2;
    const txLevel = m.output('tx_level', UInt(lw));
    const rxLevel = m.output('rx_level', UInt(lw));
    const accW = widthFor(p.clk + 16 * p.baud);

    // ---- transmitter ------------------------------------------------------------------
    const txq = m.instance('tx_fifo', fifo({ width: 8, depth: p.depth }));
    m.set(txq.in.valid, inp.valid);
    m.set(txq.in.data, inp.data);
    m.set(inp.ready, txq.in.ready);
    m.set(txLevel, txq.level);
    const txAcc = m.reg('tx_acc', UInt(accW));
    const txBusy = m.reg('tx_busy', Bool);
    const txShift = m.reg('tx_shift', UInt(9)); // data bits then the stop bit, LSB first
    const txCount = m.reg('tx_count', UInt(4));
    const txWrap = m.let('tx_wrap', txAcc.zext(accW + 1).add(p.baud).ge(p.clk));
    // Back-to-back characters: the next start bit begins at the very edge the stop bit
    // ends, so a stream of bytes keeps the exact bit rate.
    const load = m.let('tx_load', txq.out.valid.and(txBusy.not().or(txWrap.and(txCount.eq(9)))));
    m.set(txq.out.ready, load);
    m.when(txBusy.not(), () => m.set(txAcc, 0)).otherwise(() => m.set(txAcc, mux(txWrap, txAcc.zext(accW + 1).add(p.baud).sub(p.clk).trunc(accW), txAcc.add(p.baud))));
    m.when(txBusy.and(txWrap), () => {
      m.when(txCount.eq(9), () => m.set(txBusy, 0)).otherwise(() => {
        m.set(tx, txShift.bit(0));
        m.set(txShift, txShift.shr(1));
        m.set(txCount, txCount.add(1));
      });
    });
    m.when(load, () => {
      m.set(txBusy, 1);
      m.set(txShift, txq.out.data.zext(9).or(0x100));
      m.set(txCount, 0);
      m.set(tx, 0); // start bit
    });

    // ---- receiver -----------------------------------------------------------------------
    const rxMeta = m.reg('rx_meta', Bool, { reset: 1, init: 1 });
    const rxSync = m.reg('rx_sync', Bool, { reset: 1, init: 1 });
    m.set(rxMeta, rx);
    m.set(rxSync, rxMeta);
    const rxAcc = m.reg('rx_acc', UInt(accW));
    const tickInc = 16 * p.baud;
    const tick = m.let('rx_tick', rxAcc.zext(accW + 1).add(tickInc).ge(p.clk));
    m.set(rxAcc, mux(tick, rxAcc.zext(accW + 1).add(tickInc).sub(p.clk).trunc(accW), rxAcc.zext(accW + 1).add(tickInc).trunc(accW)));
    const { IDLE, START, DATA, STOP } = RxState;
    const state = m.reg('rx_state', RxState);
    const phase = m.reg('rx_phase', UInt(4));
    const bit = m.reg('rx_bit', UInt(3));
    const shift = m.reg('rx_shift', UInt(8));
    const rxq = m.instance('rx_fifo', fifo({ width: 8, depth: p.depth }));
    m.set(rxq.in.data, shift);
    m.set(rxq.in.valid, 0);
    m.set(out.valid, rxq.out.valid);
    m.set(out.data, rxq.out.data);
    m.set(rxq.out.ready, out.ready);
    m.set(rxLevel, rxq.level);
    m.switch(state, [
      [IDLE, () => {
        m.when(rxSync.eq(0), () => {
          m.set(state, START);
          m.set(phase, 0);
        });
      }],
      [START, () => {
        m.when(tick, () => {
          m.set(phase, phase.add(1));
          // The middle of the start bit: still low, or it was a glitch.
          m.when(phase.eq(7), () => {
            m.set(phase, 0);
            m.set(bit, 0);
            m.set(state, mux(rxSync, IDLE, DATA));
          });
        });
      }],
      [DATA, () => {
        m.when(tick, () => {
          m.set(phase, phase.add(1));
          m.when(phase.eq(15), () => {
            m.set(shift, shift.shr(1).or(rxSync.zext(8).shl(7)));
            m.set(bit, bit.add(1));
            m.when(bit.eq(7), () => m.set(state, STOP));
          });
        });
      }],
      [STOP, () => {
        m.when(tick, () => {
          m.set(phase, phase.add(1));
          m.when(phase.eq(15), () => {
            m.set(state, IDLE);
            m.when(rxSync, () => {
              m.set(rxq.in.valid, 1);
              m.when(rxq.in.ready.not().and(overruns.ne(255)), () => m.set(overruns, overruns.add(1)));
            }).otherwise(() => m.when(frameErrors.ne(255), () => m.set(frameErrors, frameErrors.add(1))));
          });
        });
      }],
    ]);
    return { rx, tx, in: inp, out, frameErrors, overruns, txLevel, rxLevel };
  },
  {
    name: (p) => nameWith(`uart_${p.baud}`, p, [['clk', 'c'], ['depth', 'd']], defaultsOf(UART_PARAMS)),
    validate: (p) => validateUart(p),
  },
);
