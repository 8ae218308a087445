// Ports of every width class and signedness, plus $fatal/$finish/$display, for the
// framework's own tests.
`timescale 1ns / 1ps
module widths (
    input  wire                clk,
    input  wire [99:0]         wide_a,
    input  wire [99:0]         wide_b,
    output wire [100:0]        wide_sum,
    output wire [99:0]         wide_xor,
    input  wire signed [11:0]  sa,
    input  wire signed [11:0]  sb,
    output wire signed [23:0]  sprod,
    output reg  signed [24:0]  sacc,
    input  wire [63:0]         q,
    output wire [63:0]         q_inv,
    input  wire                clear,
    input  wire                trip,
    input  wire                fin,
    output reg  [31:0]         cycles
);
    assign wide_sum = wide_a + wide_b;
    assign wide_xor = wide_a ^ wide_b;
    assign sprod = sa * sb;
    assign q_inv = ~q;
    initial begin
        sacc = 0;
        cycles = 0;
    end
    always @(posedge clk) begin
        cycles <= cycles + 1;
        sacc <= clear ? 25'sd0 : sacc + sprod;
        if (trip) begin
            $display("widths: trip seen at cycle %0d", cycles);
            $fatal(1, "trip input was set");
        end
        if (fin) $finish;
    end
endmodule
