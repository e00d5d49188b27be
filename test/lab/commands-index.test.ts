import { ALL_COMMANDS } from '../../lib/lab/commands/index.js';

describe('the lab CLI command set', () => {
  it('offers the deploy, post-deploy and lifecycle commands the README and the nightly workflow use', () => {
    expect(ALL_COMMANDS.map((c) => c.name)).toEqual(
      expect.arrayContaining(['create', 'deploy', 'up', 'preflight', 'tune', 'cilium', 'wait', 'status', 'kubeconfig', 'check', 'hubble', 'logs', 'down', 'sweep', 'extend', 'stop', 'start', 'cost']),
    );
  });

  it('has no two commands with one name', () => {
    const names = ALL_COMMANDS.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
  });
});
