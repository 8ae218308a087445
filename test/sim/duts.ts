// Designs the sim tests run: hand-written Verilog under test/verilog, and our generated RTL.

import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { verilogDut, generatedDut } from '../../sim/index.ts';
import type { CounterPorts } from '../../rtl/counter/counter.ports.ts';
import type { FifoPorts } from '../../rtl/fifo/fifo.ports.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const v = (f: string): string => path.join(ROOT, 'test/verilog', f);

export const widths = verilogDut({ top: 'widths', files: [v('widths.v')] });
export const syncFifo = verilogDut({ top: 'sync_fifo', files: [v('sync_fifo.v')], params: { WIDTH: 16, DEPTH_LOG2: 3 } });
export const uartLoop = verilogDut({ top: 'uart_loop', files: [v('uart_loop.v'), v('uart_tx.v'), v('uart_rx.v')], params: { CLKS_PER_BIT: 8 } });
export const uartRx = verilogDut({ top: 'uart_rx', files: [v('uart_rx.v')], params: { CLKS_PER_BIT: 16 } });
/** The same model with the ports a testbench uses named, so they are typed. */
export const uartRxNamed = verilogDut({ top: 'uart_rx', files: [v('uart_rx.v')], params: { CLKS_PER_BIT: 16 }, ports: ['clk', 'rst', 'rx', 'frame_error'] });
export const uartRxMisnamed = verilogDut({ top: 'uart_rx', files: [v('uart_rx.v')], params: { CLKS_PER_BIT: 16 }, ports: ['clk', 'rxd'] });
export const axilRegs = verilogDut({ top: 'axil_regs', files: [v('axil_regs.v')] });
export const axisRegister = verilogDut({ top: 'axis_register', files: [v('axis_register.v')] });
export const counter = generatedDut<CounterPorts>(path.join(ROOT, 'rtl/counter/counter.manifest.json'));
export const fifo = generatedDut<FifoPorts>(path.join(ROOT, 'rtl/fifo/fifo.manifest.json'));
export const axiPort = verilogDut({ top: 'axi_port', files: [v('axi_port.v')] });
