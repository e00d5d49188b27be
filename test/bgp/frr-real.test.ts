/**
 * The router's FRR configuration as the lab renders it (lib/bgp/frr-config.ts), in a real FRR:
 * checked by the same `vtysh --dryrun` the router's boot runs, then loaded into a running bgpd in a
 * network namespace that peers with FRR "nodes" advertising what Cilium would
 * (fixtures/frr-lab.sh); the lab's own bgp-router-state.sh reads it and the lab's parsers judge
 * it. Needs root and FRR (`.ci/run` installs Debian's frr); skipped, saying so, without them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderFrrConfig } from '../../lib/bgp/frr-config.js';
import { parseRouterState } from '../../lib/checks/bgp-state.js';
import { loadLabConfig } from '../../lib/config/load.js';
import { planLab } from '../../lib/config/plan.js';
import { renderLabScript } from '../../lib/lab/remote.js';

const HARNESS = fileURLToPath(new URL('./fixtures/frr-lab.sh', import.meta.url));
const skip =
  process.getuid?.() !== 0
    ? 'needs root (network namespaces)'
    : !existsSync('/usr/lib/frr/bgpd') || spawnSync('vtysh', ['--help']).error
      ? 'FRR is not installed (apt-get install frr)'
      : spawnSync('ip', ['netns', 'list']).status !== 0
        ? 'no network namespaces here'
        : undefined;
const itReal = skip === undefined ? it : (title: string, fn: () => void) => it.skip(`${title} [skipped: ${skip}]`, fn);

let work = '';
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'lab-frr-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const dryRun = (text: string) => {
  const file = join(work, `dry-${Math.random().toString(16).slice(2)}.conf`);
  writeFileSync(file, text);
  return spawnSync('vtysh', ['--dryrun', '-f', file], { encoding: 'utf8' });
};

describe("the router's FRR configuration in a real FRR", () => {
  itReal('passes the boot\'s own check (vtysh --dryrun) for the study lab and for a lab of other ASes, more workers and its own ranges', () => {
    const plans = [
      planLab(loadLabConfig({ context: { profile: 'bgp' } })),
      planLab(loadLabConfig({ context: { profile: 'bgp', 'workers.count': 4, 'bgp.testSubnetWorkers': 2, 'bgp.routerAsn': 4200000001, 'bgp.clusterAsn': 64512, 'bgp.advertisedRanges': '172.16.0.0/12,10.20.0.0/16' } })),
    ];
    for (const plan of plans) expect(dryRun(renderFrrConfig(plan))).toMatchObject({ status: 0, stderr: '' });
  });

  itReal('is refused by that check when a line is wrong: the boot stops before bgpd starts', () => {
    const broken = renderFrrConfig(planLab(loadLabConfig({ context: { profile: 'bgp' } }))).replace('maximum-paths 8', 'maximum-pathz 8');
    const result = dryRun(broken);
    expect(result.status).toBe(2);
    expect(`${result.stdout}${result.stderr}`).toMatch(/Unknown command.*maximum-pathz 8/);
  });

  itReal('peers with every node, takes the pod CIDRs and LoadBalancer IPs through its filter, and installs ECMP: read by the lab\'s own script and parsers', () => {
    const plan = planLab(loadLabConfig({ context: { profile: 'bgp' } }));
    const conf = join(work, 'router.conf');
    const state = join(work, 'bgp-router-state.sh');
    writeFileSync(conf, renderFrrConfig(plan));
    writeFileSync(state, renderLabScript('bgp-router-state.sh'));
    const [cp, w1, w2] = [plan.controlPlane, ...plan.workers] as [typeof plan.controlPlane, typeof plan.controlPlane, typeof plan.controlPlane];
    const node = (n: typeof cp, gateway: string, prefixes: string[]) => `${n.name},${n.privateIp}/24,${gateway},${plan.config.bgp.clusterAsn},${prefixes.join('+')}`;
    const ran = spawnSync(
      'bash',
      [
        HARNESS,
        conf,
        node(cp, '192.168.10.200', ['172.16.0.0/24', '10.20.0.5/32']),
        node(w1, '192.168.10.200', ['172.16.1.0/24', '10.20.0.5/32', '10.20.0.6/32']),
        // a node may advertise more than the lab's ranges: the router's import filter drops it
        node(w2, '192.168.20.200', ['172.16.2.0/24', '10.20.0.5/32', '10.20.0.6/32', '0.0.0.0/0', '192.0.2.0/24']),
      ],
      { encoding: 'utf8', env: { ...process.env, FRR_LAB_STATE_SCRIPT: state, FRR_LAB_WAIT_PREFIX: '10.20.0.5', FRR_LAB_WAIT_HOPS: '3', FRR_LAB_PREFIX: `clab-frr${process.pid % 1000}-` }, timeout: 60_000 },
    );
    expect({ status: ran.status, stderr: ran.status === 0 ? '' : ran.stderr }).toEqual({ status: 0, stderr: '' });
    const router = parseRouterState(ran.stdout);
    expect(router.missing).toEqual([]);
    expect(router.peers.map((p) => [p.address, p.remoteAs, p.state])).toEqual([
      [cp.privateIp, 65001, 'Established'],
      [w1.privateIp, 65001, 'Established'],
      [w2.privateIp, 65001, 'Established'],
    ]);
    expect(Object.fromEntries(router.prefixes.map((p) => [p.prefix, p.usedNextHops]))).toEqual({
      '10.20.0.5/32': [cp.privateIp, w1.privateIp, w2.privateIp],
      '10.20.0.6/32': [w1.privateIp, w2.privateIp],
      '172.16.0.0/24': [cp.privateIp],
      '172.16.1.0/24': [w1.privateIp],
      '172.16.2.0/24': [w2.privateIp],
    });
    expect(router.kernel.get('10.20.0.5')).toEqual([cp.privateIp, w1.privateIp, w2.privateIp]);
    expect(router.kernel.get('172.16.2.0/24')).toEqual([w2.privateIp]);
    expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toMatch(/clab-frr/);
  });
});
