// One clear line (or block) per user-facing error; a stack trace only for real bugs.

const USER_ERRORS = new Set(['HdlError', 'HdlErrors', 'ToolchainError', 'ToolFailure', 'ParamError', 'CheckFailed', 'VerilogError', 'ModelError', 'SimFailure', 'SimTimeoutError', 'SignalError', 'UsageError', 'CheckpointError', 'BackendError', 'LinkError']);

export function reportError(e: unknown): void {
  if (e instanceof Error && USER_ERRORS.has(e.name)) {
    console.error(e.message.startsWith('error') || /:\d+: error:/.test(e.message) ? e.message : `error: ${e.message}`);
  } else if (e instanceof Error) {
    console.error(`internal error (please report): ${e.stack ?? e.message}`);
  } else {
    console.error(`internal error (please report): ${String(e)}`);
  }
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
