/**
 * `lab tune`: the script shipped (tune-nic.sh with its parameters), the per-node reports, a
 * failing node, and the agents' restart, through the CLI on fakes of SSM and CloudFormation.
 */
import { execa } from 'execa';
import { UsageError } from '../../lib/lab/cli.js';
import { formatTuneLine, parseMtu, parseNicReport, tuneScript } from '../../lib/lab/tune.js';
import { FakeLab, nicLine, scriptKind } from './harness.js';

describe('parseMtu', () => {
  it('takes 3498 with XDP and 9001 without', () => {
    expect(parseMtu('3498', true)).toBe(3498);
    expect(parseMtu('9001', false)).toBe(9001);
  });

  it.each([
    ['9001', true, /above 3498/],
    ['abc', true, /whole number from 68 to 9001/],
    ['67', false, /whole number/],
    ['9002', false, /whole number/],
  ])('refuses --mtu %s (xdp %s) as a usage error', (text, xdp, message) => {
    expect(() => parseMtu(text, xdp)).toThrow(UsageError);
    expect(() => parseMtu(text, xdp)).toThrow(message);
  });
});

describe('tuneScript', () => {
  it('is tune-nic.sh, self-contained, with its parameters assigned right after the shebang and the shellcheck directive', async () => {
    const script = tuneScript({ mtu: 3000, xdp: false });
    expect(script.split('\n').slice(0, 4)).toEqual(['#!/usr/bin/env bash', expect.stringMatching(/^# shellcheck disable=SC2034 /), "LAB_NIC_MTU='3000'", "LAB_NIC_XDP='false'"]);
    expect(scriptKind(script)).toBe('tune');
    expect(script).not.toMatch(/^source /m);
    await expect(execa('bash', ['-n'], { input: script })).resolves.toMatchObject({ exitCode: 0 });
  });
});

describe('parseNicReport', () => {
  it('reads the last CILIUM_LAB_NIC line', () => {
    const report = parseNicReport(`NIC ens5\n  mtu 9001 -> 3498\n${nicLine({ changed: false, mtuBefore: 3498 })}\n`);
    expect(report).toMatchObject({ interface: 'ens5', mtuBefore: 3498, mtuAfter: 3498, channelsAfter: 2, changed: false });
    expect(formatTuneLine({ name: 'k8s-s', instanceId: 'i-1', ...(report ? { report } : {}) })).toBe('k8s-s  ens5  mtu 3498 -> 3498  channels 4 -> 2 (max 4)  ena 6.8.0-1021-aws  unchanged');
  });

  it('gives undefined without the line or with broken JSON', () => {
    expect(parseNicReport('ERROR: something\n')).toBeUndefined();
    expect(parseNicReport('CILIUM_LAB_NIC {"interface":\n')).toBeUndefined();
  });
});

describe('lab tune against fakes of SSM and CloudFormation', () => {
  let lab: FakeLab | undefined;
  afterEach(async () => {
    await lab?.close();
    lab = undefined;
  });

  it('tunes the three Kubernetes nodes with one command and prints each before/after', async () => {
    lab = await FakeLab.start({
      nodes: {
        'k8s-s': { answers: { tune: { stdout: `${nicLine({ mtuBefore: 9001 })}\n` } } },
        'k8s-w1': { answers: { tune: { stdout: `${nicLine({ mtuBefore: 3498, channelsBefore: 2, changed: false })}\n` } } },
        'k8s-w2': { answers: { tune: { stdout: `${nicLine({ mtuBefore: 1500, channelsMax: null, channelsBefore: null, channelsAfter: null })}\n` } } },
      },
    });
    const run = await lab.run(['tune']);
    expect(run.code).toBe(0);
    expect(run.result).toContain('tuned 3 node(s) for MTU 3498 with XDP (2 changed):');
    expect(run.result).toContain('k8s-s   ens5  mtu 9001 -> 3498  channels 4 -> 2 (max 4)  ena 6.8.0-1021-aws  changed');
    expect(run.result).toContain('k8s-w1  ens5  mtu 3498 -> 3498  channels 2 -> 2 (max 4)  ena 6.8.0-1021-aws  unchanged');
    expect(run.result).toContain('k8s-w2  ens5  mtu 1500 -> 3498  channels n/a');
    // One SendCommand for the three Kubernetes nodes (not the test host), then the restart check on the control plane
    const sends = lab.ssm.callsTo('SendCommand');
    expect(sends[0]?.body['InstanceIds']).toEqual(['k8s-s', 'k8s-w1', 'k8s-w2'].map((n) => lab?.instanceId(n)));
    expect(lab.scriptKinds()).toEqual(['tune', 'restart']);
    expect(sends[1]?.body['InstanceIds']).toEqual([lab.instanceId('k8s-s')]);
    expect(run.result).toContain('Cilium agents: absent');
  });

  it('reports the failing node with its exit code and stderr, and the others with their before/after', async () => {
    lab = await FakeLab.start({
      nodes: {
        'k8s-w2': {
          answers: {
            tune: {
              exitCode: 3,
              stderr: '2026-11-23T10:00:00Z [k8s-w2] ERROR: ENA driver 2.1.0K on ens5 is older than 2.2.8, the first that Cilium\'s NodePort XDP works with\n',
            },
          },
        },
      },
    });
    const run = await lab.run(['tune']);
    expect(run.code).toBe(1);
    expect(run.result).toContain('the NIC of 1 of 3 node(s) is not tuned (k8s-w2)');
    expect(run.result).toMatch(/k8s-s\s+ens5 {2}mtu 9001 -> 3498/);
    expect(run.result).toMatch(/k8s-w1\s+ens5 {2}mtu 9001 -> 3498/);
    expect(run.result).toMatch(/k8s-w2\s+FAILED: Failed, exit code 3: .*ENA driver 2\.1\.0K on ens5 is older than 2\.2\.8/);
    expect(run.result).toContain(`k8s-w2 (${lab.instanceId('k8s-w2')}): Failed, exit code 3`);
    // No agent restart after a failed tune
    expect(lab.scriptKinds()).toEqual(['tune']);
  });

  it('restarts the Cilium agents when a NIC changed and Cilium is installed', async () => {
    lab = await FakeLab.start({ nodes: { 'k8s-s': { answers: { restart: { stdout: 'CILIUM_LAB_AGENTS restarted\n' } } } } });
    const run = await lab.run(['tune']);
    expect(run.code).toBe(0);
    expect(run.result).toContain('Cilium agents: restarted');
    const restart = lab.ssm.scriptsSent(lab.instanceId('k8s-s')).find((s) => scriptKind(s) === 'restart');
    expect(restart).toContain("readonly LAB_ROLLOUT_TIMEOUT='5m'");
    expect(restart).toMatch(/kubectl --namespace kube-system rollout restart daemonset\/cilium/);
    expect(restart).toMatch(/rollout status daemonset\/cilium --timeout "\$LAB_ROLLOUT_TIMEOUT"/);
  });

  it('leaves the agents alone when no NIC changed', async () => {
    const unchanged = { answers: { tune: { stdout: `${nicLine({ mtuBefore: 3498, channelsBefore: 2, changed: false })}\n` } } };
    lab = await FakeLab.start({ nodes: { 'k8s-s': unchanged, 'k8s-w1': unchanged, 'k8s-w2': unchanged } });
    const run = await lab.run(['tune']);
    expect(run.code).toBe(0);
    expect(lab.scriptKinds()).toEqual(['tune']);
    expect(run.result).toContain('Cilium agents: not restarted: no NIC changed');
  });

  it('fails when the restarted agents do not come back', async () => {
    lab = await FakeLab.start({ nodes: { 'k8s-s': { answers: { restart: { exitCode: 5, stderr: 'ERROR: the restarted Cilium agents were not all ready within 5m\n' } } } } });
    const run = await lab.run(['tune']);
    expect(run.code).toBe(1);
    expect(run.result).toMatch(/restarting the Cilium agents .* failed on 1 of 1 node\(s\)/);
    expect(run.result).toContain('not all ready within 5m');
  });

  it('sends --mtu and --no-xdp to the nodes', async () => {
    lab = await FakeLab.start();
    const run = await lab.run(['tune', '--mtu', '9001', '--no-xdp']);
    expect(run.code).toBe(0);
    const script = lab.ssm.scriptsSent()[0] ?? '';
    expect(script).toContain("LAB_NIC_MTU='9001'\nLAB_NIC_XDP='false'\n");
  });

  it('refuses --mtu 9001 with XDP before any AWS call', async () => {
    lab = await FakeLab.start();
    const run = await lab.run(['tune', '--mtu', '9001']);
    expect(run.code).toBe(2);
    expect(run.result).toMatch(/--mtu 9001 is above 3498/);
    expect(lab.totalCalls()).toBe(0);
  });
});
