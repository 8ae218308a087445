// AXI4-Lite slave with four 32-bit registers (hand-written, in the style of common
// open-source register banks). Register 3 reads as reg0 + reg1; addresses >= 0x10 answer
// SLVERR. Write address and data may arrive in either order.
`timescale 1ns / 1ps
module axil_regs (
    input  wire        clk,
    input  wire        rst,
    input  wire [7:0]  s_axil_awaddr,
    input  wire [2:0]  s_axil_awprot,
    input  wire        s_axil_awvalid,
    output reg         s_axil_awready,
    input  wire [31:0] s_axil_wdata,
    input  wire [3:0]  s_axil_wstrb,
    input  wire        s_axil_wvalid,
    output reg         s_axil_wready,
    output reg  [1:0]  s_axil_bresp,
    output reg         s_axil_bvalid,
    input  wire        s_axil_bready,
    input  wire [7:0]  s_axil_araddr,
    input  wire [2:0]  s_axil_arprot,
    input  wire        s_axil_arvalid,
    output reg         s_axil_arready,
    output reg  [31:0] s_axil_rdata,
    output reg  [1:0]  s_axil_rresp,
    output reg         s_axil_rvalid,
    input  wire        s_axil_rready
);
    reg [31:0] regs [0:2];
    reg [7:0]  aw_q;
    reg        aw_have, w_have;
    reg [31:0] w_q;
    reg [3:0]  strb_q;
    integer i;

    initial begin
        s_axil_awready = 0; s_axil_wready = 0; s_axil_bvalid = 0; s_axil_bresp = 0;
        s_axil_arready = 0; s_axil_rvalid = 0; s_axil_rdata = 0; s_axil_rresp = 0;
        aw_have = 0; w_have = 0; aw_q = 0; w_q = 0; strb_q = 0;
        for (i = 0; i < 3; i = i + 1) regs[i] = 0;
    end

    always @(posedge clk) begin
        s_axil_awready <= 0;
        s_axil_wready <= 0;
        s_axil_arready <= 0;
        if (rst) begin
            aw_have <= 0; w_have <= 0; s_axil_bvalid <= 0; s_axil_rvalid <= 0;
        end else begin
            if (s_axil_awvalid && !aw_have && !s_axil_awready) begin
                s_axil_awready <= 1; aw_q <= s_axil_awaddr; aw_have <= 1;
            end
            if (s_axil_wvalid && !w_have && !s_axil_wready) begin
                s_axil_wready <= 1; w_q <= s_axil_wdata; strb_q <= s_axil_wstrb; w_have <= 1;
            end
            if (aw_have && w_have && !s_axil_bvalid) begin
                if (aw_q < 8'h0c) begin
                    for (i = 0; i < 4; i = i + 1)
                        if (strb_q[i]) regs[aw_q[3:2]][8*i +: 8] <= w_q[8*i +: 8];
                    s_axil_bresp <= 2'b00;
                end else s_axil_bresp <= aw_q < 8'h10 ? 2'b00 : 2'b10;
                s_axil_bvalid <= 1; aw_have <= 0; w_have <= 0;
            end
            if (s_axil_bvalid && s_axil_bready) s_axil_bvalid <= 0;
            if (s_axil_arvalid && !s_axil_rvalid && !s_axil_arready) begin
                s_axil_arready <= 1;
                s_axil_rvalid <= 1;
                s_axil_rresp <= s_axil_araddr < 8'h10 ? 2'b00 : 2'b10;
                case (s_axil_araddr[3:2])
                    2'd0: s_axil_rdata <= regs[0];
                    2'd1: s_axil_rdata <= regs[1];
                    2'd2: s_axil_rdata <= regs[2];
                    default: s_axil_rdata <= regs[0] + regs[1];
                endcase
            end
            if (s_axil_rvalid && s_axil_rready) s_axil_rvalid <= 0;
        end
    end
endmodule
