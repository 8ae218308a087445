// OpenAI's `stop`: generation ends where the text first contains one of the stop strings,
// which is not returned. While streaming, text that could be the start of a stop string is
// held back until the next token shows whether it is one.

export class StopText {
  private text = '';
  /** Characters of `text` already emitted. */
  private sent = 0;
  stopped = false;

  constructor(
    private readonly stops: readonly string[],
    private readonly emit: (delta: string) => void,
  ) {}

  /** All text kept so far (up to the stop string, once one is found). */
  get all(): string {
    return this.text;
  }

  /** Append decoded text; true when a stop string has now been found. */
  push(s: string): boolean {
    if (this.stopped || s === '') return this.stopped;
    const from = this.text.length;
    this.text += s;
    let hit = -1;
    for (const stop of this.stops) {
      // A match that ends in the new text starts at most stop.length - 1 characters before it.
      const i = this.text.indexOf(stop, Math.max(0, from - stop.length + 1));
      if (i >= 0 && (hit < 0 || i < hit)) hit = i;
    }
    if (hit >= 0) {
      this.text = this.text.slice(0, hit);
      this.stopped = true;
      this.flush(hit);
      return true;
    }
    let hold = 0;
    for (const stop of this.stops) {
      for (let k = Math.min(stop.length - 1, this.text.length); k > hold; k--) {
        if (this.text.endsWith(stop.slice(0, k))) {
          hold = k;
          break;
        }
      }
    }
    this.flush(this.text.length - hold);
    return false;
  }

  /** The generation ended: emit what was held back. */
  end(): void {
    this.flush(this.text.length);
  }

  private flush(upTo: number): void {
    if (upTo > this.sent) {
      this.emit(this.text.slice(this.sent, upTo));
      this.sent = upTo;
    }
  }
}
