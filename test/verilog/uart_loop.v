// The transmitter wired to the receiver, for a loopback test through one model.
`timescale 1ns / 1ps
module uart_loop #(
    parameter CLKS_PER_BIT = 16
) (
    input  wire       clk,
    input  wire       rst,
    input  wire [7:0] in_data,
    input  wire       in_valid,
    output wire       in_ready,
    output wire       tx,
    output wire [7:0] out_data,
    output wire       out_valid,
    output wire       frame_error
);
    uart_tx #(.CLKS_PER_BIT(CLKS_PER_BIT)) u_tx (.clk(clk), .rst(rst), .in_data(in_data), .in_valid(in_valid), .in_ready(in_ready), .tx(tx));
    uart_rx #(.CLKS_PER_BIT(CLKS_PER_BIT)) u_rx (.clk(clk), .rst(rst), .rx(tx), .out_data(out_data), .out_valid(out_valid), .frame_error(frame_error));
endmodule
