// KC705 PCIe top: the Xilinx XDMA IP (module xdma_0, made by build.tcl: Gen1 x4, 64-bit
// AXI at 125 MHz, AXI4-Stream H2C/C2H channel 0, AXI4-Lite master on BAR0) wired to the
// generated PCIe SoC of rtl/xdma. Board glue only; everything else is generated.
// The link moves one byte per clock (125 MB/s), which Gen1 x4 (1 GB/s) carries with room.
`default_nettype none

module kc705_xdma_top (
    input  wire       pcie_refclk_p,
    input  wire       pcie_refclk_n,
    input  wire       pcie_perst_n,
    input  wire [3:0] pci_exp_rxp,
    input  wire [3:0] pci_exp_rxn,
    output wire [3:0] pci_exp_txp,
    output wire [3:0] pci_exp_txn,
    output wire [1:0] led
);
    wire refclk;
    /* verilator lint_off PINCONNECTEMPTY */
    IBUFDS_GTE2 refclk_ibuf (.O(refclk), .ODIV2(), .CEB(1'b0), .I(pcie_refclk_p), .IB(pcie_refclk_n));

    wire        axi_aclk;
    wire        axi_aresetn;
    wire        user_lnk_up;
    wire [31:0] axil_awaddr, axil_wdata, axil_araddr, axil_rdata;
    wire [3:0]  axil_wstrb;
    wire [1:0]  axil_bresp, axil_rresp;
    wire        axil_awvalid, axil_awready, axil_wvalid, axil_wready, axil_bvalid, axil_bready;
    wire        axil_arvalid, axil_arready, axil_rvalid, axil_rready;
    wire [63:0] h2c_tdata, c2h_tdata;
    wire [7:0]  h2c_tkeep, c2h_tkeep;
    wire        h2c_tlast, h2c_tvalid, h2c_tready, c2h_tlast, c2h_tvalid, c2h_tready;
    wire        busy;

    xdma_0 xdma (
        .sys_clk(refclk),
        .sys_rst_n(pcie_perst_n),
        .pci_exp_txp(pci_exp_txp),
        .pci_exp_txn(pci_exp_txn),
        .pci_exp_rxp(pci_exp_rxp),
        .pci_exp_rxn(pci_exp_rxn),
        .axi_aclk(axi_aclk),
        .axi_aresetn(axi_aresetn),
        .user_lnk_up(user_lnk_up),
        .usr_irq_req(1'b0),
        .usr_irq_ack(),
        .msi_enable(),
        .msi_vector_width(),
        .m_axil_awaddr(axil_awaddr),
        .m_axil_awprot(),
        .m_axil_awvalid(axil_awvalid),
        .m_axil_awready(axil_awready),
        .m_axil_wdata(axil_wdata),
        .m_axil_wstrb(axil_wstrb),
        .m_axil_wvalid(axil_wvalid),
        .m_axil_wready(axil_wready),
        .m_axil_bvalid(axil_bvalid),
        .m_axil_bresp(axil_bresp),
        .m_axil_bready(axil_bready),
        .m_axil_araddr(axil_araddr),
        .m_axil_arprot(),
        .m_axil_arvalid(axil_arvalid),
        .m_axil_arready(axil_arready),
        .m_axil_rdata(axil_rdata),
        .m_axil_rresp(axil_rresp),
        .m_axil_rvalid(axil_rvalid),
        .m_axil_rready(axil_rready),
        .m_axis_h2c_tdata_0(h2c_tdata),
        .m_axis_h2c_tkeep_0(h2c_tkeep),
        .m_axis_h2c_tlast_0(h2c_tlast),
        .m_axis_h2c_tvalid_0(h2c_tvalid),
        .m_axis_h2c_tready_0(h2c_tready),
        .s_axis_c2h_tdata_0(c2h_tdata),
        .s_axis_c2h_tkeep_0(c2h_tkeep),
        .s_axis_c2h_tlast_0(c2h_tlast),
        .s_axis_c2h_tvalid_0(c2h_tvalid),
        .s_axis_c2h_tready_0(c2h_tready)
    );
    /* verilator lint_on PINCONNECTEMPTY */

    board_16x16_xdma64 soc (
        .axi_aclk(axi_aclk),
        .axi_aresetn(axi_aresetn),
        .s_axil_awvalid(axil_awvalid),
        .s_axil_awready(axil_awready),
        .s_axil_awaddr(axil_awaddr),
        .s_axil_wvalid(axil_wvalid),
        .s_axil_wready(axil_wready),
        .s_axil_wdata(axil_wdata),
        .s_axil_wstrb(axil_wstrb),
        .s_axil_bvalid(axil_bvalid),
        .s_axil_bready(axil_bready),
        .s_axil_bresp(axil_bresp),
        .s_axil_arvalid(axil_arvalid),
        .s_axil_arready(axil_arready),
        .s_axil_araddr(axil_araddr),
        .s_axil_rvalid(axil_rvalid),
        .s_axil_rready(axil_rready),
        .s_axil_rdata(axil_rdata),
        .s_axil_rresp(axil_rresp),
        .s_axis_h2c_tvalid(h2c_tvalid),
        .s_axis_h2c_tready(h2c_tready),
        .s_axis_h2c_tdata(h2c_tdata),
        .s_axis_h2c_tkeep(h2c_tkeep),
        .s_axis_h2c_tlast(h2c_tlast),
        .m_axis_c2h_tvalid(c2h_tvalid),
        .m_axis_c2h_tready(c2h_tready),
        .m_axis_c2h_tdata(c2h_tdata),
        .m_axis_c2h_tkeep(c2h_tkeep),
        .m_axis_c2h_tlast(c2h_tlast),
        .busy(busy)
    );

    assign led = {busy, user_lnk_up};
endmodule

`default_nettype wire
