/** The runner's verdict rules and the check builder, with scenarios written inline. */
import { check } from '../../lib/checks/builder.js';
import { runChecks } from '../../lib/checks/runner.js';
import { DEFAULT_CHECK_OPTIONS, type CheckEnvironment, type Expectation, type Fixture, type Scenario } from '../../lib/checks/types.js';
import type { KubeClient } from '../../lib/kube/types.js';

const OK: Expectation = { id: 'ok', description: 'it holds' };

function env(signal = new AbortController().signal): CheckEnvironment {
  return { kube: {} as KubeClient, lab: { nodes: [] }, options: DEFAULT_CHECK_OPTIONS, signal };
}

const scenario = <F = unknown>(name: string, run: Scenario<F>['run']): Scenario<F> => ({ name, proves: `${name} works`, expectations: [OK], run });

describe('verdicts', () => {
  it('passes a scenario whose expectations all held, with their details as the reason', async () => {
    const [r] = await runChecks([check('c').withScenarios(scenario('s', async (run) => void run.expect(OK, true, 'seen fine'))).build()], env());
    expect(r).toMatchObject({ check: 'c', scenario: 's', status: 'passed', reason: 'seen fine' });
  });

  it('fails a scenario with an unmet expectation, naming it', async () => {
    const [r] = await runChecks([check('c').withScenarios(scenario('s', async (run) => void run.expect(OK, false, 'seen broken'))).build()], env());
    expect(r).toMatchObject({ status: 'failed', reason: 'ok: seen broken' });
  });

  it('fails a scenario that asserted nothing: a pass must prove something', async () => {
    const [r] = await runChecks([check('c').withScenarios(scenario('s', async () => undefined)).build()], env());
    expect(r).toMatchObject({ status: 'failed', reason: 'the scenario asserted nothing' });
  });

  it('fails a scenario that throws, keeping the evidence recorded before', async () => {
    const [r] = await runChecks(
      [
        check('c')
          .withScenarios(
            scenario('s', async (run) => {
              run.record('kubectl get pods', 'No resources found');
              throw new Error('boom');
            }),
          )
          .build(),
      ],
      env(),
    );
    expect(r).toMatchObject({ status: 'failed', reason: 'boom', evidence: { command: 'kubectl get pods', output: '$ kubectl get pods\nNo resources found' } });
  });

  it('skips a scenario that cannot run, with its reason', async () => {
    const [r] = await runChecks([check('c').withScenarios(scenario('s', async (run) => run.skip('no SSM'))).build()], env());
    expect(r).toMatchObject({ status: 'skipped', reason: 'no SSM' });
  });

  it('skips everything with "interrupted" when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort('SIGINT');
    const results = await runChecks([check('c').withScenarios(scenario('a', async (run) => void run.expect(OK, true, ''))).build()], env(controller.signal));
    expect(results).toEqual([expect.objectContaining({ status: 'skipped', reason: 'not run: interrupted' })]);
  });
});

describe('fixtures', () => {
  it('reports a failed set-up once, skips its scenarios, and still tears down', async () => {
    // given
    let tornDown = 0;
    const fixture: Fixture<string> = {
      name: 'test namespace',
      setup: async (_env, record) => {
        record('create namespace x', 'forbidden');
        throw new Error('namespaces "x" is forbidden');
      },
      teardown: async () => {
        tornDown += 1;
      },
    };
    const c = check('d').withFixture(fixture).withScenarios(scenario('a', async (run) => void run.expect(OK, true, run.fixture))).build();
    // when
    const results = await runChecks([c], env());
    // then
    expect(results.map((r) => [r.scenario, r.status, r.reason])).toEqual([
      ['setup', 'failed', 'namespaces "x" is forbidden'],
      ['a', 'skipped', 'not run: the test namespace failed (namespaces "x" is forbidden)'],
    ]);
    expect(results[0]?.evidence.command).toBe('create namespace x');
    expect(tornDown).toBe(1);
  });

  it('hands the fixture to the scenarios and reports a failed teardown as cleanup', async () => {
    const fixture: Fixture<string> = {
      name: 'ns',
      setup: async () => 'pods up',
      teardown: async () => {
        throw new Error('namespace stuck Terminating');
      },
    };
    const c = check('d').withFixture(fixture).withScenarios(scenario('a', async (run) => void run.expect(OK, run.fixture === 'pods up', run.fixture))).build();
    const results = await runChecks([c], env());
    expect(results.map((r) => [r.scenario, r.status, r.reason])).toEqual([
      ['a', 'passed', 'pods up'],
      ['cleanup', 'failed', 'namespace stuck Terminating'],
    ]);
  });
});

describe('the builder', () => {
  it('refuses a check without scenarios, two scenarios of one name, and a fixture after the scenarios', () => {
    const s = scenario('a', async () => undefined);
    expect(() => check('c').build()).toThrow('check c has no scenarios');
    expect(() => check('c').withScenarios(s, s).build()).toThrow('check c has two scenarios named a');
    const fixture: Fixture<number> = { name: 'f', setup: async () => 1, teardown: async () => undefined };
    expect(() => check('c').withScenarios(s).withFixture(fixture)).toThrow('call withFixture before withScenarios');
  });

  it('keeps what the check proves', () => {
    const c = check('c').proves('things work').withScenarios(scenario('a', async () => undefined)).build();
    expect(c).toMatchObject({ name: 'c', proves: 'things work' });
  });
});
