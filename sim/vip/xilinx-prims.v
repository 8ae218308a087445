// Behavioural models of the Xilinx 7-series primitives the generator instantiates by hand
// (generator/cores/ternary/lut-array.ts), for simulation only: synthesis takes them from its
// own library (Yosys's xilinx cells, Vivado's UNISIM), so this file is never synthesized.
// Each follows the primitive's documented function (UG953); no timing, no GSR.
// A model library holds several modules in one file, under the primitives' own names.
/* verilator lint_off DECLFILENAME */
`default_nettype none

// A 5-input LUT.
module LUT5 #(
    parameter [31:0] INIT = 32'h0
) (
    output wire O,
    input  wire I0,
    input  wire I1,
    input  wire I2,
    input  wire I3,
    input  wire I4
);
    assign O = INIT[{I4, I3, I2, I1, I0}];
endmodule

// A 6-input LUT with two outputs: O6 of all six inputs, O5 of I0..I4 (the lower half).
module LUT6_2 #(
    parameter [63:0] INIT = 64'h0
) (
    output wire O6,
    output wire O5,
    input  wire I0,
    input  wire I1,
    input  wire I2,
    input  wire I3,
    input  wire I4,
    input  wire I5
);
    assign O6 = INIT[{I5, I4, I3, I2, I1, I0}];
    assign O5 = INIT[{1'b0, I4, I3, I2, I1, I0}];
endmodule

// Four bits of carry chain: carry into bit 0 is CI | CYINIT; bit k passes its carry on where
// S[k] = 1 and takes DI[k] where S[k] = 0; O[k] = S[k] ^ carry into bit k.
module CARRY4 (
    output wire [3:0] CO,
    output wire [3:0] O,
    input  wire       CI,
    input  wire       CYINIT,
    input  wire [3:0] DI,
    input  wire [3:0] S
);
    // One wire a carry (not a vector feeding itself, which Verilator cannot order well).
    wire c0 = CI | CYINIT;
    wire c1 = S[0] ? c0 : DI[0];
    wire c2 = S[1] ? c1 : DI[1];
    wire c3 = S[2] ? c2 : DI[2];
    wire c4 = S[3] ? c3 : DI[3];
    assign CO = {c4, c3, c2, c1};
    assign O = S ^ {c3, c2, c1, c0};
endmodule

`default_nettype wire
/* verilator lint_on DECLFILENAME */
