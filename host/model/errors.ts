// A checkpoint that cannot be used: the message names the file and, where there is one,
// the tensor or field, and says what was expected.

export class CheckpointError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'CheckpointError';
  }
}
