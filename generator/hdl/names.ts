// Identifier rules for emitted names. Verilator also rejects names that are C++ keywords
// (SYMRSVDWORD), so those are reserved too.

const VERILOG = `always and assign automatic begin buf bufif0 bufif1 case casex casez cell cmos config deassign
default defparam design disable edge else end endcase endconfig endfunction endgenerate endmodule
endprimitive endspecify endtable endtask event for force forever fork function generate genvar
highz0 highz1 if ifnone incdir include initial inout input instance integer join large liblist
library localparam macromodule medium module nand negedge nmos nor noshowcancelled not notif0
notif1 or output parameter pmos posedge primitive pull0 pull1 pulldown pullup
pulsestyle_onevent pulsestyle_ondetect rcmos real realtime reg release repeat rnmos rpmos rtran
rtranif0 rtranif1 scalared showcancelled signed small specify specparam strong0 strong1 supply0
supply1 table task time tran tranif0 tranif1 tri tri0 tri1 triand trior trireg unsigned use
uwire vectored wait wand weak0 weak1 while wire wor xnor xor`;

const SYSTEMVERILOG = `alias always_comb always_ff always_latch assert assume before bind bins binsof bit break
byte chandle class clocking const constraint context continue cover covergroup coverpoint cross
dist do endclass endclocking endgroup endinterface endpackage endprogram endproperty endsequence
enum expect export extends extern final first_match foreach forkjoin iff ignore_bins
illegal_bins import inside int interface intersect join_any join_none local logic longint
matches modport new null package packed priority program property protected pure rand randc
randcase randsequence ref return sequence shortint shortreal solve static string struct super
tagged this throughout timeprecision timeunit type typedef union unique var virtual void
wait_order wildcard with within accept_on checker endchecker eventually global implies let
nexttime reject_on restrict s_always s_eventually s_nexttime s_until s_until_with strong
sync_accept_on sync_reject_on unique0 until until_with untyped weak implements interconnect
nettype soft`;

const CPP = `alignas alignof and_eq asm auto bitand bitor bool case catch char char8_t char16_t char32_t
compl concept const_cast consteval constexpr constinit co_await co_return co_yield decltype
delete double dynamic_cast explicit false float friend goto inline long mutable namespace
noexcept not_eq nullptr operator or_eq private public register reinterpret_cast requires
short sizeof static_assert static_cast switch template thread_local throw true try typeid
typename unsigned using volatile wchar_t xor_eq`;

export const RESERVED: ReadonlySet<string> = new Set(`${VERILOG} ${SYSTEMVERILOG} ${CPP}`.split(/\s+/).filter(Boolean));

const IDENT = /^[A-Za-z][A-Za-z0-9_]*$/;

/** Why `name` cannot be a Verilog identifier, or undefined when it can. */
export function badIdentifier(name: string): string | undefined {
  if (!IDENT.test(name)) return `'${name}' is not a valid identifier (letters, digits and _, starting with a letter)`;
  if (RESERVED.has(name)) return `'${name}' is a reserved word in Verilog, SystemVerilog or C++ (Verilator) and cannot be a name`;
  if (name.includes('__')) return `'${name}' contains '__', which Verilator reserves for its own names`;
  if (name.length > 200) return `'${name}' is longer than 200 characters`;
  return undefined;
}

/** Best-effort conversion of arbitrary text into a legal identifier fragment. */
export function sanitize(text: string): string {
  let s = text.replace(/[^A-Za-z0-9_]+/g, '_').replace(/_+/g, '_').replace(/^_|_$/g, '');
  if (!s || !/^[A-Za-z]/.test(s)) s = `n${s}`;
  if (RESERVED.has(s)) s = `${s}_`;
  return s;
}
