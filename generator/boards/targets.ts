// The boards `bitnet-fpga build --board NAME` knows: which generated top goes on them,
// their constraints, and the flow that makes a bitstream.

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

export type BoardTarget = Ice40Board;

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
};
