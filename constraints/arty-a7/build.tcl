# Vivado batch build of the Arty A7 bitstream (non-project mode; no IP needed).
#   vivado -mode batch -source constraints/arty-a7/build.tcl -tclargs [PART] [OUT_DIR]
# PART defaults to the A7-35T (xc7a35ticsg324-1L); the A7-100T is xc7a100tcsg324-1.
# Reads rtl/arty (checked in; regenerate with `npx bitnet-fpga generate --all`).
set here [file dirname [file normalize [info script]]]
set root [file normalize $here/../..]
set part [expr {[llength $argv] > 0 ? [lindex $argv 0] : "xc7a35ticsg324-1L"}]
set out  [expr {[llength $argv] > 1 ? [lindex $argv 1] : "$root/build/arty-a7"}]
file mkdir $out

read_verilog [glob $root/rtl/arty/*.v]
read_xdc $here/arty-a7.xdc
synth_design -top arty_top -part $part
opt_design
place_design
route_design
report_utilization -file $out/utilization.rpt
report_timing_summary -file $out/timing.rpt
if {[get_property SLACK [get_timing_paths -max_paths 1 -nworst 1 -setup]] < 0} {
  puts "ERROR: arty_top does not meet 100 MHz; see $out/timing.rpt"
  exit 1
}
write_bitstream -force $out/arty_top.bit
puts "bitstream: $out/arty_top.bit (manifest: $root/rtl/arty/arty_top.manifest.json)"
