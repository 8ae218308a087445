// The boards `bitnet-fpga build --board NAME` knows: which generated top goes on them,
// their constraints, and the flow that makes a bitstream. Every folder of constraints/ is
// one of them (test/boards/vendor.test.ts checks that), and constraints/README.md has a
// section for each.

export interface Ice40Board {
  readonly flow: 'ice40';
  readonly name: string;
  readonly description: string;
  /** The registry core that is the board's top (rtl/<core> holds its checked-in RTL). */
  readonly core: string;
  /** Relative to the project root. */
  readonly constraints: string;
  readonly device: string;
  readonly package: string;
  readonly freqMHz: number;
  /** How a user loads the bitstream, and the serial port the SoC answers on. */
  readonly program: string;
  readonly serial: string;
}

/**
 * A board whose bitstream needs Vivado: its script builds the checked-in rtl/<core> (the
 * Tcl reads those files), so build runs it as it is and takes no parameters.
 */
export interface VivadoBoard {
  readonly flow: 'vivado';
  readonly name: string;
  readonly description: string;
  /** The registry core that is the board's top; its checked-in RTL is rtl/<core>'s CHECKED_IN folder. */
  readonly core: string;
  readonly constraints: string;
  /** Vivado batch script, relative to the project root; `-tclargs` as its header says. */
  readonly script: string;
  readonly tclargs: readonly string[];
  readonly freqMHz: number;
  /** How the host reaches the board once programmed. */
  readonly backend: string;
}

export type BoardTarget = Ice40Board | VivadoBoard;

export const BOARDS: Readonly<Record<string, BoardTarget>> = {
  icebreaker: {
    flow: 'ice40',
    name: 'icebreaker',
    description: 'iCEBreaker (iCE40UP5K-SG48, 12 MHz): the board SoC on the USB serial port',
    core: 'icebreaker',
    constraints: 'constraints/icebreaker/icebreaker.pcf',
    device: 'up5k',
    package: 'sg48',
    freqMHz: 12,
    program: 'iceprog',
    serial: '/dev/ttyUSB1',
  },
  'arty-a7': {
    flow: 'vivado',
    name: 'arty-a7',
    description: 'Digilent Arty A7 (XC7A35T; XC7A100T with the part argument, 100 MHz): the board SoC on the USB-UART bridge',
    core: 'arty',
    constraints: 'constraints/arty-a7/arty-a7.xdc',
    script: 'constraints/arty-a7/build.tcl',
    tclargs: ['xc7a35ticsg324-1L'],
    freqMHz: 100,
    backend: 'uart:/dev/ttyUSB1',
  },
  kc705: {
    flow: 'vivado',
    name: 'kc705',
    description: 'Xilinx KC705 (XC7K325T, PCIe Gen1 x4 through the XDMA IP, 125 MHz): the 16x16 SoC of rtl/xdma',
    core: 'xdma',
    constraints: 'constraints/kc705/kc705.xdc',
    script: 'constraints/kc705/build.tcl',
    tclargs: [],
    freqMHz: 125,
    backend: 'pcie:/dev/xdma0',
  },
};
