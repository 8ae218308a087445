// Designs that exercise every feature of the HDL library, for emission, lint, synthesis
// and equivalence tests.

import {
  defineModule, defineBlackBox, UInt, SInt, Bool, lit, cat, mux,
  bundlePorts, axi4LiteSpec, streamSpec, connectBundle, bundleWires,
} from '../../generator/hdl/index.ts';

/** A parameterized accumulator: two instances with equal parameters share one module. */
export const accum = defineModule('accum', (m, p: { width: number; [k: string]: number }) => {
  const d = m.input('d', SInt(p.width));
  const en = m.input('en', Bool);
  const acc = m.output('acc', SInt(p.width + 4), { reg: { enable: en } });
  m.set(acc, acc.add(d.ext(p.width + 4)));
  return { d, en, acc, rst: m.sync.rst! };
});

/** AXI4-Lite register bank with four 32-bit registers (write strobes honoured). */
export const regbank = defineModule('regbank', (m) => {
  const s = bundlePorts(m, 's_axi', axi4LiteSpec(4), 'sink');
  const regs = [0, 1, 2, 3].map((i) => m.reg(`reg${i}`, UInt(32), { reset: i * 0x1111 }));
  const bvalid = m.reg('bvalid_q', Bool);
  const rvalid = m.reg('rvalid_q', Bool);
  const rdata = m.reg('rdata_q', UInt(32));
  const doWrite = m.let('do_write', s.awvalid.and(s.wvalid).and(bvalid.not()));
  const doRead = m.let('do_read', s.arvalid.and(rvalid.not()));
  m.set(s.awready, doWrite);
  m.set(s.wready, doWrite);
  m.set(s.bvalid, bvalid);
  m.set(s.bresp, 0);
  m.set(s.arready, doRead);
  m.set(s.rvalid, rvalid);
  m.set(s.rdata, rdata);
  m.set(s.rresp, 0);
  const merged = (old: ReturnType<typeof m.reg>) =>
    cat(...[3, 2, 1, 0].map((b) => mux(s.wstrb.bit(b), s.wdata.slice(8 * b + 7, 8 * b), old.slice(8 * b + 7, 8 * b))));
  m.when(doWrite, () => {
    m.set(bvalid, 1);
    m.switch(s.awaddr.slice(3, 2), regs.map((r, i) => [i, () => m.set(r, merged(r))] as const));
  }).elseWhen(s.bready, () => m.set(bvalid, 0));
  m.when(doRead, () => {
    m.set(rvalid, 1);
    m.switch(s.araddr.slice(3, 2), regs.map((r, i) => [i, () => m.set(rdata, r)] as const));
  }).elseWhen(s.rready, () => m.set(rvalid, 0));
  // awprot/arprot and the low address bits are part of the protocol but carry nothing here.
  const spare = m.output('prot_seen', UInt(8));
  m.set(spare, cat(s.awprot, s.arprot, s.awaddr.slice(1, 0).xor(s.araddr.slice(1, 0))));
  return { s, prot_seen: spare, rst: m.sync.rst! };
});

/** Everything at once, under an active-low reset; the children's active-high resets are driven by hand. */
export const kitchenSink = defineModule('kitchen_sink', (m) => {
  const dom = m.domain('sync', { rst: 'rst_n', reset: 'sync', active: 'low' });
  const rst = m.let('rst', dom.rst!.not());
  const a = m.input('a', SInt(8));
  const b = m.input('b', SInt(8));
  const en = m.input('en', Bool);
  const wide = m.input('wide', UInt(100));
  const addr = m.input('addr', UInt(3));

  const u0 = m.instance('acc_a', accum({ width: 8 }));
  const u1 = m.instance('acc_b', accum({ width: 8 }));
  const u2 = m.instance('acc_w', accum({ width: 12 }));
  m.set(u0.d, a);
  m.set(u0.en, en);
  m.set(u1.d, b);
  m.set(u1.en, en.not());
  m.set(u2.d, a.mul(b).trunc(12));
  m.set(u2.en, 1);

  const rb = m.instance('bank', regbank({}));
  for (const u of [u0, u1, u2]) m.set(u.rst, rst);
  m.set(rb.rst, rst);
  const axi = bundleWires(m, 'host', axi4LiteSpec(4));
  connectBundle(m, axi4LiteSpec(4), rb.s, axi);
  // A tiny fixed master: keeps writing a then reading back, so the bank is exercised.
  m.set(axi.awvalid, en);
  m.set(axi.awaddr, cat(addr.slice(1, 0), lit(0, UInt(2))));
  m.set(axi.awprot, 0);
  m.set(axi.wvalid, en);
  m.set(axi.wdata, cat(a.asUnsigned(), b.asUnsigned(), a.asUnsigned(), b.asUnsigned()));
  m.set(axi.wstrb, cat(addr, en));
  m.set(axi.bready, 1);
  m.set(axi.arvalid, en.not());
  m.set(axi.araddr, cat(addr.slice(2, 1), lit(0, UInt(2))));
  m.set(axi.arprot, 0);
  m.set(axi.rready, addr.bit(0));

  const rom = m.memory('fib_rom', { shape: UInt(16), depth: 8, init: [1, 2, 3, 5, 8, 13, 21, 34] });
  const ram = m.memory('scratch', { shape: SInt(8), depth: 8 });
  m.when(en, () => ram.write(addr, a));
  const romq = rom.readSync(addr);
  const ramq = ram.readSync(addr.add(1), { enable: en.not() });

  const big = m.reg('big', UInt(100));
  m.set(big, big.add(wide).xor(wide.shl(3)));

  const fsm = m.reg('state', UInt(2));
  m.switch(fsm, [
    [0, () => m.when(en, () => m.set(fsm, 1))],
    [1, () => m.set(fsm, mux(a.lt(b), 2, 3))],
    [[2, 3], () => m.set(fsm, 0)],
  ]);

  m.set(m.output('sum', SInt(12)), u0.acc.ext(12).add(u1.acc.ext(12)));
  m.set(m.output('prod_acc', SInt(16)), u2.acc);
  m.set(m.output('rdata', UInt(32)), axi.rdata);
  m.set(m.output('resp', UInt(6)), cat(axi.bvalid, axi.bresp, axi.rvalid, axi.rresp.xor(axi.awready.rep(2))));
  m.set(m.output('hand', UInt(3)), cat(axi.wready, axi.arready, rb.prot_seen.orReduce()));
  m.set(m.output('rom_q', UInt(16)), romq.add(ram.read(addr).asUnsigned().ext(16)));
  m.set(m.output('ram_q', SInt(8)), ramq);
  m.set(m.output('big_hi', UInt(40)), big.slice(99, 60));
  m.set(m.output('big_lo', UInt(60)), big.slice(59, 0));
  m.set(m.output('state_q', UInt(2)), fsm);
  m.set(m.output('sra', SInt(8)), a.shr(addr));
  m.set(m.output('cmp', UInt(4)), cat(a.lt(b), a.ge(b), a.asUnsigned().lt(b.asUnsigned()), a.eq(b)));
  return {};
});

/** A stream pipeline stage and a two-clock design: lint and synthesis only. */
export const twoClocks = defineModule('two_clocks', (m) => {
  const fast = m.domain('fast', { rst: null });
  const slow = m.domain('slow', { reset: 'sync', active: 'high' });
  const inp = bundlePorts(m, 'in', streamSpec(UInt(8)), 'sink');
  const out = bundlePorts(m, 'out', streamSpec(UInt(8)), 'source');
  const hold = m.reg('hold', UInt(8), { domain: fast, init: 0xa5 });
  const full = m.reg('full', Bool, { domain: fast, init: 0 });
  m.set(inp.ready, full.not().or(out.ready));
  m.when(inp.valid.and(inp.ready), () => {
    m.set(hold, inp.data);
    m.set(full, 1);
  }).elseWhen(out.ready, () => m.set(full, 0));
  m.set(out.valid, full);
  m.set(out.data, hold);
  const ticks = m.output('ticks', UInt(16), { reg: { domain: slow } });
  m.set(ticks, ticks.add(1));
  return {};
});

/** A black box written in plain Verilog, instantiated with a Verilog parameter. */
export const blackBoxXor = defineBlackBox(
  'bb_xor',
  { a: { dir: 'in', shape: UInt(8) }, b: { dir: 'in', shape: UInt(8) }, y: { dir: 'out', shape: UInt(8) } },
  {
    verilog: `\`default_nettype none
module bb_xor #(parameter INVERT = 0) (
    input  wire [7:0] a,
    input  wire [7:0] b,
    output wire [7:0] y
);
    assign y = INVERT != 0 ? ~(a ^ b) : (a ^ b);
endmodule
\`default_nettype wire
`,
    parameters: { INVERT: 1 },
  },
);

export const withBlackBox = defineModule('with_black_box', (m) => {
  const a = m.input('a', UInt(8));
  const b = m.input('b', UInt(8));
  const bb = m.blackBox('u_xor', blackBoxXor);
  m.set(bb.a!, a);
  m.set(bb.b!, b);
  m.set(m.output('y', UInt(8)), bb.y!);
  return {};
});
