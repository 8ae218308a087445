// Synchronous FIFO with valid/ready on both sides, written by hand in the style of common
// open-source cores (not generated): used to test the testbench framework on foreign RTL.
`timescale 1ns / 1ps
module sync_fifo #(
    parameter WIDTH = 8,
    parameter DEPTH_LOG2 = 4
) (
    input  wire             clk,
    input  wire             rst,
    input  wire [WIDTH-1:0] s_data,
    input  wire             s_valid,
    output wire             s_ready,
    output wire [WIDTH-1:0] m_data,
    output wire             m_valid,
    input  wire             m_ready,
    output wire [DEPTH_LOG2:0] count
);
    localparam DEPTH = 1 << DEPTH_LOG2;
    reg [WIDTH-1:0] mem [0:DEPTH-1];
    reg [DEPTH_LOG2:0] wr_ptr = 0, rd_ptr = 0;

    wire full  = (wr_ptr[DEPTH_LOG2] != rd_ptr[DEPTH_LOG2]) && (wr_ptr[DEPTH_LOG2-1:0] == rd_ptr[DEPTH_LOG2-1:0]);
    wire empty = wr_ptr == rd_ptr;

    assign s_ready = !full;
    assign m_valid = !empty;
    assign m_data  = mem[rd_ptr[DEPTH_LOG2-1:0]];
    assign count   = wr_ptr - rd_ptr;

    always @(posedge clk) begin
        if (rst) begin
            wr_ptr <= 0;
            rd_ptr <= 0;
        end else begin
            if (s_valid && s_ready) begin
                mem[wr_ptr[DEPTH_LOG2-1:0]] <= s_data;
                wr_ptr <= wr_ptr + 1;
            end
            if (m_valid && m_ready) rd_ptr <= rd_ptr + 1;
        end
    end
endmodule
