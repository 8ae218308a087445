# Vivado batch build of the KC705 PCIe bitstream: the XDMA IP configured for the link the
# host's pcie backend expects, the generated SoC of rtl/xdma, kc705_xdma_top around them.
#   vivado -mode batch -source constraints/kc705/build.tcl -tclargs [OUT_DIR]
# Then, on the host with the card: load Xilinx's XDMA driver (dma_ip_drivers, xdma.ko),
# and run with --backend pcie:/dev/xdma0 (the devices /dev/xdma0_user, _h2c_0, _c2h_0).
# Another Kintex-7 or Artix-7 board: change `part`, the XDMA's lane count and kc705.xdc.
set here [file dirname [file normalize [info script]]]
set root [file normalize $here/../..]
set part xc7k325tffg900-2
set out  [expr {[llength $argv] > 0 ? [lindex $argv 0] : "$root/build/kc705"}]
file mkdir $out/ip
create_project -in_memory -part $part

create_ip -name xdma -vendor xilinx.com -library ip -module_name xdma_0 -dir $out/ip
set_property -dict [list \
  CONFIG.mode_selection {Advanced} \
  CONFIG.pl_link_cap_max_link_width {X4} \
  CONFIG.pl_link_cap_max_link_speed {2.5_GT/s} \
  CONFIG.axi_data_width {64_bit} \
  CONFIG.axisten_freq {125} \
  CONFIG.xdma_axi_intf_mm {AXI_Stream} \
  CONFIG.xdma_rnum_chnl {1} \
  CONFIG.xdma_wnum_chnl {1} \
  CONFIG.axilite_master_en {true} \
  CONFIG.axilite_master_size {64} \
  CONFIG.axilite_master_scale {Kilobytes} \
  CONFIG.pciebar2axibar_axil_master {0x00000000} \
  CONFIG.cfg_mgmt_if {false} \
] [get_ips xdma_0]
generate_target all [get_ips xdma_0]
synth_ip [get_ips xdma_0]

read_verilog [glob $root/rtl/xdma/*.v]
read_verilog $here/kc705_xdma_top.v
read_xdc $here/kc705.xdc
synth_design -top kc705_xdma_top -part $part
opt_design
place_design
route_design
report_utilization -file $out/utilization.rpt
report_timing_summary -file $out/timing.rpt
if {[get_property SLACK [get_timing_paths -max_paths 1 -nworst 1 -setup]] < 0} {
  puts "ERROR: kc705_xdma_top does not meet timing; see $out/timing.rpt"
  exit 1
}
write_bitstream -force $out/kc705_xdma_top.bit
puts "bitstream: $out/kc705_xdma_top.bit (manifest: $root/rtl/xdma/board_16x16_xdma64.manifest.json)"
