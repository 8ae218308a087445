// Mocha reporter: the spec reporter's output, the functional coverage of every cover group
// the tests created (sim/tb/coverage.ts), then a JUnit XML file (test-results/junit.xml,
// or $JUNIT_XML, with the coverage as properties and system-out) and one closing line
// "N passed, N failed[, N skipped]" that CI reads.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const Mocha = require('mocha');
const { EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING, EVENT_RUN_END } = Mocha.Runner.constants;

function esc(s) {
  return String(s).replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]);
}

class Reporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const cases = [];
    let passed = 0, failed = 0, skipped = 0;
    const suiteOf = (t) => t.parent ? t.parent.fullTitle() : '';
    runner.on(EVENT_TEST_PASS, (t) => { passed++; cases.push({ t, state: 'pass' }); });
    runner.on(EVENT_TEST_FAIL, (t, err) => { failed++; cases.push({ t, state: 'fail', err }); });
    runner.on(EVENT_TEST_PENDING, (t) => { skipped++; cases.push({ t, state: 'skip' }); });
    runner.once(EVENT_RUN_END, () => {
      const file = process.env.JUNIT_XML || path.join('test-results', 'junit.xml');
      const body = cases.map(({ t, state, err }) => {
        const head = `  <testcase classname="${esc(suiteOf(t))}" name="${esc(t.title)}" time="${((t.duration || 0) / 1000).toFixed(3)}"`;
        if (state === 'pass') return `${head}/>`;
        if (state === 'skip') return `${head}><skipped/></testcase>`;
        return `${head}><failure message="${esc(err && err.message)}">${esc(err && err.stack)}</failure></testcase>`;
      });
      const groups = globalThis[Symbol.for('bitnet-fpga.coverage')] || [];
      const reports = groups.map((g) => g.report());
      const props = groups.map((g) => `    <property name="coverage:${esc(g.name)}" value="${(100 * g.coverage().fraction).toFixed(1)}"/>`);
      const extra = groups.length ? `  <properties>\n${props.join('\n')}\n  </properties>\n  <system-out>${esc(reports.join('\n\n'))}</system-out>\n` : '';
      const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="bitnet-fpga" tests="${cases.length}" failures="${failed}" skipped="${skipped}">\n${extra}${body.join('\n')}\n</testsuite>\n`;
      try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, xml);
      } catch (e) {
        console.error(`could not write JUnit XML to ${file}: ${e.message}`);
      }
      // After the spec reporter's epilogue.
      process.nextTick(() => {
        if (reports.length) console.log(`\n${reports.join('\n\n')}\n`);
        console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
      });
    });
  }
}
module.exports = Reporter;
