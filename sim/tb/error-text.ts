// Rewriting an error's message so every reporter shows the new text. A reporter such as
// mocha's prints the header of `err.stack`, not `err.message`, and that header is fixed
// the first time the stack is read: node:assert reads it while constructing an
// AssertionError, so a message changed afterwards (the seed, simulation time, waves path,
// the failing task) would reach only JUnit, never the console.

/** Set `err.message` to `message` and put the same text at the head of `err.stack`. */
export function setMessage(err: Error, message: string): void {
  const stack = err.stack;
  err.message = message;
  if (typeof stack !== 'string') return;
  const lines = stack.split('\n');
  const firstFrame = lines.findIndex((l) => /^\s+at\s/.test(l));
  const frames = firstFrame < 0 ? [] : lines.slice(firstFrame);
  const code = (err as { code?: unknown }).code;
  const head = `${err.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${message}`;
  try {
    err.stack = [head, ...frames].join('\n');
  } catch {
    // A frozen or accessor-only stack: the message alone has to do.
  }
}
