/** The README states the true number of scenarios `lab check` runs (issue: it promised checks that did not exist). */
import { readFileSync } from 'node:fs';
import { labChecks } from '../../lib/checks/suite.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const checkRow = readme.split('\n').find((line) => line.startsWith('| `check ')) ?? '';
const count = (checks: ReturnType<typeof labChecks>): number => checks.reduce((n, c) => n + c.scenarios.length, 0);

describe("the README's lab check row", () => {
  it('names the number of scenarios the suite has', () => {
    const stated = Number(/(\d+) scenarios/.exec(checkRow)?.[1]);
    expect(stated).toBe(count(labChecks()));
  });

  it('says --upstream adds exactly one', () => {
    expect(checkRow).toContain('one more with `--upstream`');
    expect(count(labChecks({ upstream: { junitPath: '/tmp/x.xml' } })) - count(labChecks())).toBe(1);
  });
});
