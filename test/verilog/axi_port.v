// Every signal of an AXI4 interface as an input, so a testbench can play the master by
// hand (including breaking the rules) against the AXI4 memory model, which drives the
// slave's half. `seen` keeps Verilator from calling the inputs unused.
`default_nettype none
module axi_port #(parameter ADDR = 16, parameter DATA = 32) (
    input  wire              clk,
    input  wire              awvalid, awready,
    input  wire [ADDR-1:0]   awaddr,
    input  wire [7:0]        awlen,
    input  wire [2:0]        awsize,
    input  wire [1:0]        awburst,
    input  wire              wvalid, wready, wlast,
    input  wire [DATA-1:0]   wdata,
    input  wire [DATA/8-1:0] wstrb,
    input  wire              bvalid, bready,
    input  wire [1:0]        bresp,
    input  wire              arvalid, arready,
    input  wire [ADDR-1:0]   araddr,
    input  wire [7:0]        arlen,
    input  wire [2:0]        arsize,
    input  wire [1:0]        arburst,
    input  wire              rvalid, rready, rlast,
    input  wire [DATA-1:0]   rdata,
    input  wire [1:0]        rresp,
    output reg               seen
);
    always @(posedge clk) seen <= ^{awvalid, awready, awaddr, awlen, awsize, awburst, wvalid, wready, wlast, wdata, wstrb,
                                  bvalid, bready, bresp, arvalid, arready, araddr, arlen, arsize, arburst, rvalid, rready, rlast, rdata, rresp};
endmodule
`default_nettype wire
