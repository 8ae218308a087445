// AXI4-Stream register slice with a skid buffer: full throughput, registered outputs
// (hand-written, after the common open-source axis_register pattern).
`timescale 1ns / 1ps
module axis_register #(
    parameter DATA_WIDTH = 32,
    parameter KEEP_WIDTH = DATA_WIDTH / 8
) (
    input  wire                  clk,
    input  wire                  rst,
    input  wire [DATA_WIDTH-1:0] s_axis_tdata,
    input  wire [KEEP_WIDTH-1:0] s_axis_tkeep,
    input  wire                  s_axis_tvalid,
    output wire                  s_axis_tready,
    input  wire                  s_axis_tlast,
    output reg  [DATA_WIDTH-1:0] m_axis_tdata,
    output reg  [KEEP_WIDTH-1:0] m_axis_tkeep,
    output reg                   m_axis_tvalid,
    input  wire                  m_axis_tready,
    output reg                   m_axis_tlast
);
    reg [DATA_WIDTH-1:0] skid_tdata;
    reg [KEEP_WIDTH-1:0] skid_tkeep;
    reg                  skid_tlast;
    reg                  skid_valid;

    assign s_axis_tready = !skid_valid;

    initial begin
        m_axis_tvalid = 0; skid_valid = 0;
        m_axis_tdata = 0; m_axis_tkeep = 0; m_axis_tlast = 0;
        skid_tdata = 0; skid_tkeep = 0; skid_tlast = 0;
    end

    always @(posedge clk) begin
        if (rst) begin
            m_axis_tvalid <= 0;
            skid_valid <= 0;
        end else begin
            if (!m_axis_tvalid || m_axis_tready) begin
                if (skid_valid) begin
                    m_axis_tdata <= skid_tdata; m_axis_tkeep <= skid_tkeep; m_axis_tlast <= skid_tlast;
                    m_axis_tvalid <= 1;
                    skid_valid <= 0;
                end else begin
                    m_axis_tdata <= s_axis_tdata; m_axis_tkeep <= s_axis_tkeep; m_axis_tlast <= s_axis_tlast;
                    m_axis_tvalid <= s_axis_tvalid;
                end
            end else if (s_axis_tvalid && s_axis_tready) begin
                skid_tdata <= s_axis_tdata; skid_tkeep <= s_axis_tkeep; skid_tlast <= s_axis_tlast;
                skid_valid <= 1;
            end
        end
    end
endmodule
