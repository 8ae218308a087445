// Mocha's configuration. The spec list (every test file) applies only when no file or
// directory is named on the command line: mocha merges a config's spec with the files it
// is given, so `npx mocha test/sim/foreign.test.ts` (or `npm test -- FILE`) would otherwise
// run the whole suite.
'use strict';
const fs = require('node:fs');

// Options that take a value: their value is not a file to run.
const VALUED = new Set(['-R', '--reporter', '-O', '--reporter-option', '--reporter-options', '-r', '--require', '--file', '--config', '--ignore',
  '--exclude', '-n', '--node-option', '-g', '--grep', '-f', '--fgrep', '-t', '--timeout', '--timeouts', '-s', '--slow', '-u', '--ui', '--extension',
  '-j', '--jobs', '--package', '--retries', '--watch-files', '--watch-ignore']);

function namesFiles(argv) {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return argv.length > i + 1;
    if (a === '--spec' || a.startsWith('--spec=')) return true;
    if (a.startsWith('-')) {
      if (VALUED.has(a)) i++;
      continue;
    }
    if (fs.existsSync(a) || /[*?]/.test(a)) return true; // a file, a directory, or a glob mocha expands
  }
  return false;
}

module.exports = {
  'node-option': ['import=tsx', 'enable-source-maps'],
  ...(namesFiles(process.argv.slice(2)) ? {} : { spec: ['test/**/*.test.ts'] }),
  reporter: 'test/support/reporter.cjs',
  timeout: 900000,
  slow: 5000,
};
