// The UART VIP on its own: a source and a monitor on one line (a design input) in every
// format the VIP offers, errors reported with their character and time, a strict sink
// failing the test, and bad configurations refused at construction with the port named.

import assert from 'node:assert/strict';
import { dutTest, Clock, Timer, UartSource, UartMonitor, UartSink, type UartOptions } from '../../sim/index.ts';
import { uartRx } from './duts.ts';

const FORMATS: UartOptions[] = [
  { baud: 115_200 },
  { baud: 1_000_000, dataBits: 7, parity: 'even', stopBits: 2 },
  { baud: 250_000, dataBits: 9, parity: 'odd', stopBits: 1.5 },
  { baud: 333_333, dataBits: 5, parity: 'mark' },
  { baud: 57_600, parity: 'space' },
];

describe('UART VIP', () => {
  dutTest('a source and a monitor agree on every format (baud, data bits, parity, stop bits)', { dut: uartRx, timeout: '100 ms', parametrize: { format: FORMATS.map((_, i) => i) } }, async (dut, tb, { format }) => {
    const o = FORMATS[format]!;
    const src = new UartSource(dut.rx, o);
    const mon = new UartMonitor(dut.rx, o);
    const n = o.dataBits ?? 8;
    const chars = Array.from({ length: 20 }, () => tb.rng.int(0, 2 ** n - 1));
    src.write(chars);
    await src.idle();
    const got = [];
    for (let i = 0; i < chars.length; i++) got.push(await mon.recvFrame());
    assert.deepEqual(got.map((f) => f.data), chars);
    assert.deepEqual(mon.errors, []);
    // Characters back to back: each start bit follows the last stop bit exactly.
    const bitPs = 1e12 / o.baud!;
    const frameBits = 1 + n + (o.parity && o.parity !== 'none' ? 1 : 0) + (o.stopBits ?? 1);
    for (let i = 1; i < got.length; i++) assert.ok(Math.abs(got[i]!.startPs - got[i - 1]!.startPs - frameBits * bitPs) <= 1, `character ${i} starts one frame after the last`);
  });

  dutTest('by prescale: clock cycles per bit of a clock', { dut: uartRx, timeout: '1 ms' }, async (dut) => {
    const clock = new Clock(dut.clk, 10, 'ns').start();
    const src = new UartSource(dut.rx, { clock, clocksPerBit: 16 });
    const mon = new UartMonitor(dut.rx, { baud: 1e9 / 160 });
    src.write('OK');
    await src.idle();
    assert.deepEqual([(await mon.recvFrame()).data, (await mon.recvFrame()).data], [0x4f, 0x4b]);
  });

  dutTest('framing and parity errors are reported with the character and its time', { dut: uartRx, timeout: '1 ms' }, async (dut) => {
    const o: UartOptions = { baud: 1_000_000, parity: 'even' };
    const src = new UartSource(dut.rx, o);
    const mon = new UartMonitor(dut.rx, o);
    src.write([0x3c], { badStop: true });
    await src.idle();
    await Timer(2, 'us'); // a low stop bit runs into the next start bit: give the line an idle time, as a real receiver needs
    src.write([0x11]);
    src.write([0x7e], { badParity: true });
    await src.idle();
    await Timer(2, 'us');
    const frames = [await mon.recvFrame(), await mon.recvFrame(), await mon.recvFrame()];
    assert.deepEqual(frames.map((f) => [f.data, f.framingError, f.parityError]), [[0x3c, true, false], [0x11, false, false], [0x7e, false, true]]);
    assert.equal(mon.errors.length, 2);
    assert.equal(frames[0]!.startPs, 0);
  });

  dutTest('a strict sink fails the test on a bad character, naming it', { dut: uartRx, timeout: '1 ms', expectFail: /in task 'UartSink\(uart_rx\.rx\)': UartSink\(uart_rx\.rx\): framing error \(stop bit low\) in the character 0x3c starting at 0 ps/ }, async (dut) => {
    const src = new UartSource(dut.rx, { baud: 1_000_000 });
    const snk = new UartSink(dut.rx, { baud: 1_000_000 });
    src.write([0x3c], { badStop: true });
    await snk.recv();
  });

  dutTest('bad configurations fail at construction, naming the port or option', { dut: uartRx, timeout: '1 us' }, async (dut) => {
    assert.throws(() => new UartMonitor(dut.out_data, { baud: 9600 }), /UartMonitor\(uart_rx\.out_data\): uart_rx\.out_data is 8 bits wide; a UART line is one bit/);
    assert.throws(() => new UartSource(dut.out_valid, { baud: 9600 }), /UartSource\(uart_rx\.out_valid\): uart_rx\.out_valid is an output of the design; a source drives an input/);
    assert.throws(() => new UartSource(dut.rx, {}), /UartSource\(uart_rx\.rx\): give either baud or clock with clocksPerBit/);
    assert.throws(() => new UartSource(dut.rx, { baud: 9600, dataBits: 10 }), /dataBits 10: expected 5 to 9/);
    assert.throws(() => new UartSource(dut.rx, { baud: 9600, stopBits: 3 }), /stopBits 3: expected 1, 1\.5 or 2/);
    assert.throws(() => new UartSource(dut.rx, { baud: 9600, parity: 'xor' as never }), /parity 'xor': expected one of none, even, odd, mark, space/);
    assert.throws(() => new UartSource(dut.rx, { baud: 9600 }).write([300]), /character 300 does not fit 8 data bits/);
    assert.throws(() => dut.txd, /design 'uart_rx' has no port 'txd'/);
  });
});
