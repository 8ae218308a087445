// `node --import tsx --import ./test/support/record-loads.mjs …`: appends the URL of every
// module the process resolves, one a line, to the file $RECORD_LOADS (test/layering.test.ts
// reads it to see which parts of the project a command loaded). Registered after tsx, so its
// resolve runs first and sees tsx's answer for .ts files.

import { register } from 'node:module';

if (process.env.RECORD_LOADS) register(new URL('./record-loads-hooks.mjs', import.meta.url), { data: { file: process.env.RECORD_LOADS } });
