// Behavioural models of the Xilinx 7-series primitives the generator instantiates by hand
// (generator/cores/ternary/lut-array.ts), for simulation only: synthesis takes them from its
// own library (Yosys's xilinx cells, Vivado's UNISIM), so this file is never synthesized.
// Each follows the primitive's documented function (UG953); no timing, no GSR.
`default_nettype none

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
    wire [4:0] c;
    assign c[0] = CI | CYINIT;
    genvar k;
    generate
        for (k = 0; k < 4; k = k + 1) begin : bits
            assign c[k + 1] = S[k] ? c[k] : DI[k];
        end
    endgenerate
    assign CO = c[4:1];
    assign O = S ^ c[3:0];
endmodule

`default_nettype wire
