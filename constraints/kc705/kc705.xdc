## Xilinx KC705 (XC7K325T-2FFG900C) in a PCIe slot: pins of kc705_xdma_top.
## PCIe lanes are placed by the XDMA IP (its default GT quad for this part); here only the
## reference clock buffer, PERST# and the user LEDs. Locations as in Xilinx's KC705 PCIe
## example designs.

## 100 MHz PCIe reference clock from the slot
set_property PACKAGE_PIN U8 [get_ports pcie_refclk_p]
set_property PACKAGE_PIN U7 [get_ports pcie_refclk_n]
set_property LOC IBUFDS_GTE2_X0Y1 [get_cells refclk_ibuf]
create_clock -name pcie_refclk -period 10.000 [get_ports pcie_refclk_p]

## PERST# (active low) from the slot
set_property PACKAGE_PIN G25 [get_ports pcie_perst_n]
set_property IOSTANDARD LVCMOS25 [get_ports pcie_perst_n]
set_property PULLUP true [get_ports pcie_perst_n]
set_false_path -from [get_ports pcie_perst_n]

## GPIO LEDs: led[0] link up, led[1] computing
set_property PACKAGE_PIN AB8 [get_ports {led[0]}]
set_property PACKAGE_PIN AA8 [get_ports {led[1]}]
set_property IOSTANDARD LVCMOS15 [get_ports {led[*]}]
set_false_path -to [get_ports {led[*]}]
