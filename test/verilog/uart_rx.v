// 8N1 UART receiver: two-flop synchronizer, start bit checked at mid-bit, data sampled at
// the middle of each bit, framing error when the stop bit is low (hand-written).
`timescale 1ns / 1ps
module uart_rx #(
    parameter CLKS_PER_BIT = 16
) (
    input  wire       clk,
    input  wire       rst,
    input  wire       rx,
    output reg  [7:0] out_data,
    output reg        out_valid,
    output reg        frame_error
);
    localparam IDLE = 2'd0, START = 2'd1, DATA = 2'd2, STOP = 2'd3;
    reg [1:0]  state = IDLE;
    reg [15:0] clk_count = 0;
    reg [2:0]  bit_index = 0;
    reg        rx_meta = 1'b1, rx_sync = 1'b1;

    initial begin
        out_data = 0;
        out_valid = 0;
        frame_error = 0;
    end

    always @(posedge clk) begin
        rx_meta <= rx;
        rx_sync <= rx_meta;
    end

    always @(posedge clk) begin
        out_valid <= 1'b0;
        if (rst) begin
            state <= IDLE;
            frame_error <= 1'b0;
        end else begin
            case (state)
                IDLE: begin
                    clk_count <= 0;
                    if (!rx_sync) state <= START;
                end
                START: begin
                    if (clk_count == (CLKS_PER_BIT - 1) / 2) begin
                        clk_count <= 0;
                        bit_index <= 0;
                        state <= rx_sync ? IDLE : DATA;
                    end else clk_count <= clk_count + 1;
                end
                DATA: begin
                    if (clk_count == CLKS_PER_BIT - 1) begin
                        clk_count <= 0;
                        out_data[bit_index] <= rx_sync;
                        if (bit_index == 3'd7) state <= STOP;
                        else bit_index <= bit_index + 1;
                    end else clk_count <= clk_count + 1;
                end
                STOP: begin
                    if (clk_count == CLKS_PER_BIT - 1) begin
                        clk_count <= 0;
                        state <= IDLE;
                        out_valid <= rx_sync;
                        frame_error <= !rx_sync;
                    end else clk_count <= clk_count + 1;
                end
            endcase
        end
    end
endmodule
