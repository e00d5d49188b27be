/**
 * `lab max-pods` and `lab density` through the real CLI: max-pods runs the real
 * scripts/node/kubelet-max-pods.sh in bash for each node (its kubeadm flags file in a temp dir,
 * systemctl a stand-in whose "restart" makes the fake kubelet post the new capacity to the loopback
 * API server), then waits for every node to report it; density fills a node until maxPods holds.
 */
import { EventEmitter } from 'node:events';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadLabConfig } from '../../lib/config/load.js';
import { planLab, type LabPlan } from '../../lib/config/plan.js';
import { runCli } from '../../lib/lab/cli.js';
import { densityCommand, maxPodsCommand } from '../../lib/lab/commands/density.js';
import { FakeRemoteRunner, LAB_NODES, LabWorld } from '../checks/lab-world.js';
import { useLabWorld, worldServices } from '../helpers/lab-services.js';

const plan = planLab(loadLabConfig({ context: {} }));
const lab0 = useLabWorld(plan);
let world: LabWorld;
let dir: string;
beforeEach(() => {
  world = lab0.world();
  dir = lab0.dir();
});

/** Each node: kubeadm's flags file as kubeadm writes it, and a systemctl whose restart posts the kubelet's new capacity. */
function nodesRunningTheScript(): FakeRemoteRunner {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'systemctl'), `#!/bin/sh\necho "$NODE $*" >> "${join(dir, 'systemctl.calls')}"\n`);
  chmodSync(join(bin, 'systemctl'), 0o755);
  for (const n of LAB_NODES) {
    writeFileSync(join(dir, `${n.name}.env`), `KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///run/containerd/containerd.sock --node-ip=${n.ip} --pod-infra-container-image=registry.k8s.io/pause:3.9"\n`);
  }
  return new FakeRemoteRunner((node, script) => {
    const run = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, NODE: node, KUBELET_FLAGS_FILE: join(dir, `${node}.env`) } });
    // The restarted kubelet posts its capacity from the flag it now runs with.
    const flag = /--max-pods=(\d+)/.exec(readFileSync(join(dir, `${node}.env`), 'utf8'))?.[1];
    const n = LAB_NODES.find((x) => x.name === node);
    if (flag && n) world.api.addNode({ name: n.name, internalIp: n.ip, podCidr: n.podCidr, controlPlane: n.controlPlane, podCapacity: Number(flag) });
    return { exitCode: run.status ?? 1, stdout: run.stdout, stderr: run.stderr };
  });
}

async function lab(argv: string[], remote: FakeRemoteRunner, labPlan: LabPlan = plan) {
  const lines: string[] = [];
  const services = worldServices(labPlan, remote);
  const settings = { maxPodsWaitMs: 1_000, pollIntervalMs: 10, signals: new EventEmitter() };
  const code = await runCli(argv, {
    commands: [maxPodsCommand(settings), densityCommand(settings)],
    createServices: () => services,
    out: () => ({ info: (l) => lines.push(l), result: (l) => lines.push(l) }),
  });
  return { code, text: lines.join('\n') };
}

describe('lab max-pods', () => {
  it("sets the kubelet's --max-pods on every Kubernetes node, restarts it, and waits until the nodes report it", async () => {
    const remote = nodesRunningTheScript();
    const run = await lab(['max-pods', '300'], remote);
    expect([run.code, run.text]).toEqual([0, expect.stringContaining('maxPods 300 on 3 node(s):\n  k8s-s: 110 -> 300\n  k8s-w1: 110 -> 300\n  k8s-w2: 110 -> 300')]);
    expect(readFileSync(join(dir, 'k8s-w1.env'), 'utf8')).toMatch(/--node-ip=192\.168\.10\.101 .*--max-pods=300"$/m);
    expect(readFileSync(join(dir, 'systemctl.calls'), 'utf8').trim().split('\n').sort()).toEqual(['k8s-s restart kubelet', 'k8s-w1 restart kubelet', 'k8s-w2 restart kubelet']);
    expect(((world.api.nodeNamed('k8s-w2')?.status as { allocatable?: { pods?: string } } | undefined)?.allocatable?.pods)).toBe('300');
    // Again: nothing to change, no restart
    const again = await lab(['max-pods', '300'], remote);
    expect(again.text).toContain('k8s-w1: 300 -> 300 (unchanged)');
    expect(readFileSync(join(dir, 'systemctl.calls'), 'utf8').trim().split('\n')).toHaveLength(3);
  });

  it('fails naming the nodes whose kubelet never reports the new limit', async () => {
    // a kubelet that does not come back with it: the flags file is rewritten, the node still says 110
    const remote = new FakeRemoteRunner(() => ({ exitCode: 0, stdout: 'CILIUM_LAB_MAX_PODS {"before":"110","after":"300","changed":true}\n' }));
    const run = await lab(['max-pods', '300'], remote);
    expect(run.code).toBe(1);
    expect(run.text).toMatch(/after 1 s these nodes still report another pod capacity: k8s-s 110, k8s-w1 110, k8s-w2 110/);
  });

  it.each([
    [['max-pods'], /max-pods: give the limit/],
    [['max-pods', '5'], /max-pods 5: give the kubelet's pod limit as a whole number from 10 to 1000/],
  ])('refuses %j before any call', async (argv, message) => {
    const remote = nodesRunningTheScript();
    const run = await lab(argv, remote);
    expect([run.code, remote.calls.length]).toEqual([2, 0]);
    expect(run.text).toMatch(message);
  });

  it('refuses on a deployed eni lab even when -c does not say so (the stack\'s own config decides)', async () => {
    const remote = nodesRunningTheScript();
    const run = await lab(['max-pods', '300'], remote, planLab(loadLabConfig({ context: { profile: 'eni' } })));
    expect([run.code, remote.calls.length]).toEqual([2, 0]);
    expect(run.text).toMatch(/profile=eni sets each node's maxPods/);
  });

  it('refuses on a lab whose profile sizes each node itself (eni)', async () => {
    const remote = nodesRunningTheScript();
    const run = await lab(['max-pods', '300', '-c', 'profile=eni'], remote, planLab(loadLabConfig({ context: { profile: 'eni' } })));
    expect([run.code, remote.calls.length]).toEqual([2, 0]);
    expect(run.text).toMatch(/profile=eni sets each node's maxPods from what its network interfaces hold/);
  });
});

describe('lab density', () => {
  it('fills the first worker until the kubelet\'s maxPods holds, says so, and deletes its namespace', async () => {
    const run = await lab(['density', '--pods', '120'], new FakeRemoteRunner(() => ({ exitCode: 0, stdout: '' })));
    expect(run.code).toBe(0);
    expect(run.text).toMatch(/k8s-w1 took \d+ of 120 pods and holds 110 in all: the kubelet's maxPods is 110 \(status\.capacity\.pods\), so the scheduler left \d+ Pending with "Too many pods"\./);
    expect(run.text).toContain('namespace cilium-lab-density deleted');
    expect(world.api.hasNamespace('cilium-lab-density')).toBe(false);
  });

  it('exits 130 on Ctrl-C while it waits, with its namespace deleted (143 for SIGTERM)', async () => {
    for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
      const signals = new EventEmitter();
      const lines: string[] = [];
      const services = worldServices(plan, world.remote);
      const exit = await runCli(['density', '--pods', '40'], {
        commands: [densityCommand({ pollIntervalMs: 50, signals })],
        createServices: () => services,
        out: () => ({
          info: (l) => {
            lines.push(l);
            if (l.includes('created 40 pause pod(s)')) signals.emit(signal);
          },
          result: (l) => lines.push(l),
        }),
      });
      expect([signal, exit]).toEqual([signal, code]);
      expect(lines.join('\n')).toContain(`lab density stopped by ${signal}; namespace cilium-lab-density deleted`);
      expect(world.api.hasNamespace('cilium-lab-density')).toBe(false);
    }
  });

  it('refuses a node that is not in the lab, and a bad --pods, before any call', async () => {
    expect((await lab(['density', '--node', 'k8s-w9'], new FakeRemoteRunner(() => ({ exitCode: 0, stdout: '' })))).text).toMatch(/--node k8s-w9: not a Kubernetes node of lab cilium-lab \(k8s-s, k8s-w1, k8s-w2\)/);
    const bad = await lab(['density', '--pods', 'many'], new FakeRemoteRunner(() => ({ exitCode: 0, stdout: '' })));
    expect([bad.code, bad.text]).toEqual([2, expect.stringMatching(/--pods many: give a whole number from 1 to 2000/)]);
  });
});
