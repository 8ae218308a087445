// iCEBreaker top for the board SoC of rtl/board (board_8x8_uart: UART at 115,200 baud from a
// 12 MHz clock, link engine, 8x8 ternary core). Board glue only: a power-on reset (the
// iCE40's flip-flops are 0 after configuration, so the counter needs no reset of its own),
// the user button as a manual reset, and two LEDs: green while the core computes, red once
// the UART has seen a framing error or an overrun (a baud mismatch, or a noisy line).
`default_nettype none

module icebreaker_top (
    input  wire CLK,
    input  wire RX,
    output wire TX,
    input  wire BTN_N,
    output wire LEDR_N,
    output wire LEDG_N
);
    reg [5:0] por = 6'd0;
    always @(posedge CLK) if (!por[5]) por <= por + 6'd1;

    // The button is asynchronous to CLK: two flip-flops before it resets anything.
    reg [1:0] btn_sync = 2'b11;
    always @(posedge CLK) btn_sync <= {btn_sync[0], BTN_N};
    wire rst = !por[5] || !btn_sync[1];

    wire busy;
    wire [7:0] frame_errors;
    wire [7:0] overruns;

    // core_reset and the FIFO levels are for a debugger; nothing on this board reads them.
    /* verilator lint_off PINCONNECTEMPTY */
    board_8x8_uart soc (
        .clk(CLK),
        .rst(rst),
        .busy(busy),
        .core_reset(),
        .uart_rx(RX),
        .uart_tx(TX),
        .uart_frame_errors(frame_errors),
        .uart_overruns(overruns),
        .uart_rx_level(),
        .uart_tx_level()
    );
    /* verilator lint_on PINCONNECTEMPTY */

    assign LEDG_N = !busy;
    assign LEDR_N = !(|frame_errors || |overruns);
endmodule

`default_nettype wire
