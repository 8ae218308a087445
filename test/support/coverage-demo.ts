// A cover group below its goal, for test/sim/coverage.test.ts to run through the project's
// reporter (the report on the console, the figure in JUnit). Not a *.test.ts file.

import { CoverGroup } from '../../sim/index.ts';

const cov = new CoverGroup<number>('demo group').point('parity', (n) => (n % 2 ? 'odd' : 'even'), ['odd', 'even']).point('size', (n) => n, { small: (n) => n < 10, large: (n) => n >= 10 });

describe('coverage demo (on purpose)', () => {
  it('samples three small numbers', () => [1, 2, 3].forEach((n) => cov.sample(n)));
});
