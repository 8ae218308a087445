// One clear line (or block) per user-facing error; a stack trace only for real bugs.

const USER_ERRORS = new Set(['HdlError', 'HdlErrors', 'ToolchainError', 'ToolFailure', 'ParamError', 'CheckFailed', 'VerilogError', 'ModelError', 'SimFailure', 'SimTimeoutError', 'SignalError', 'UsageError', 'CheckpointError', 'BackendError', 'LinkError', 'ServeError']);

/** Exit status of a command that failed on its input (bad flag, file, board, toolchain). */
export const EXIT_FAILED = 1;
/** Exit status of a bug (EX_SOFTWARE in sysexits.h), so a script or test can tell one from bad input. */
export const EXIT_INTERNAL = 70;

/** Print `e` for the user and return the exit status. */
export function reportError(e: unknown): number {
  if (e instanceof Error && USER_ERRORS.has(e.name)) {
    console.error(e.message.startsWith('error') || /:\d+: error:/.test(e.message) ? e.message : `error: ${e.message}`);
    return EXIT_FAILED;
  }
  console.error(`internal error (please report): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  return EXIT_INTERNAL;
}

export class CheckFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckFailed';
  }
}

/** A bad command line: the message names the flag and what it expected. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
