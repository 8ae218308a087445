// Port-only stand-ins for the Xilinx cells the vendor board tops instantiate, so those
// tops can be linted against the generated RTL here (Vivado supplies the real ones).
// The ports are the XDMA IP's (PG195) for the configuration build.tcl makes.
`default_nettype none
/* verilator lint_off UNUSEDSIGNAL */
/* verilator lint_off DECLFILENAME */
module IBUFDS_GTE2 (output wire O, output wire ODIV2, input wire CEB, input wire I, input wire IB);
    assign O = I;
    assign ODIV2 = I;
endmodule

module xdma_0 (
    input  wire        sys_clk,
    input  wire        sys_rst_n,
    output wire [3:0]  pci_exp_txp,
    output wire [3:0]  pci_exp_txn,
    input  wire [3:0]  pci_exp_rxp,
    input  wire [3:0]  pci_exp_rxn,
    output wire        axi_aclk,
    output wire        axi_aresetn,
    output wire        user_lnk_up,
    input  wire [0:0]  usr_irq_req,
    output wire [0:0]  usr_irq_ack,
    output wire        msi_enable,
    output wire [2:0]  msi_vector_width,
    output wire [31:0] m_axil_awaddr,
    output wire [2:0]  m_axil_awprot,
    output wire        m_axil_awvalid,
    input  wire        m_axil_awready,
    output wire [31:0] m_axil_wdata,
    output wire [3:0]  m_axil_wstrb,
    output wire        m_axil_wvalid,
    input  wire        m_axil_wready,
    input  wire        m_axil_bvalid,
    input  wire [1:0]  m_axil_bresp,
    output wire        m_axil_bready,
    output wire [31:0] m_axil_araddr,
    output wire [2:0]  m_axil_arprot,
    output wire        m_axil_arvalid,
    input  wire        m_axil_arready,
    input  wire [31:0] m_axil_rdata,
    input  wire [1:0]  m_axil_rresp,
    input  wire        m_axil_rvalid,
    output wire        m_axil_rready,
    output wire [63:0] m_axis_h2c_tdata_0,
    output wire [7:0]  m_axis_h2c_tkeep_0,
    output wire        m_axis_h2c_tlast_0,
    output wire        m_axis_h2c_tvalid_0,
    input  wire        m_axis_h2c_tready_0,
    input  wire [63:0] s_axis_c2h_tdata_0,
    input  wire [7:0]  s_axis_c2h_tkeep_0,
    input  wire        s_axis_c2h_tlast_0,
    input  wire        s_axis_c2h_tvalid_0,
    output wire        s_axis_c2h_tready_0
);
    assign {pci_exp_txp, pci_exp_txn} = 8'd0;
    assign {axi_aclk, axi_aresetn, user_lnk_up, usr_irq_ack, msi_enable, msi_vector_width} = 8'd0;
    assign {m_axil_awaddr, m_axil_awprot, m_axil_awvalid, m_axil_wdata, m_axil_wstrb, m_axil_wvalid, m_axil_bready} = 74'd0;
    assign {m_axil_araddr, m_axil_arprot, m_axil_arvalid, m_axil_rready} = 37'd0;
    assign {m_axis_h2c_tdata_0, m_axis_h2c_tkeep_0, m_axis_h2c_tlast_0, m_axis_h2c_tvalid_0, s_axis_c2h_tready_0} = 75'd0;
endmodule
/* verilator lint_on UNUSEDSIGNAL */
`default_nettype wire
