/**
 * The scripts the host scenarios ship over SSM, run for real in bash (with stand-ins for
 * iptables-save and ethtool on PATH), and linted: a counting bug here would make the checks
 * pass on a real cluster whatever it holds.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { taggedJson } from '../../lib/checks/parsers.js';
import { NIC_STATE_SCRIPT, NIC_STATE_TAG } from '../../lib/checks/scenarios/nic-tuning.js';
import { IPTABLES_SCRIPT, IPTABLES_TAG } from '../../lib/checks/scenarios/no-kube-svc-rules.js';
import { upstreamScript } from '../../lib/checks/scenarios/upstream-connectivity.js';

let bin: string;

beforeEach(() => {
  bin = mkdtempSync(join(tmpdir(), 'host-scripts-'));
});

afterEach(() => {
  rmSync(bin, { recursive: true, force: true });
});

function standIn(name: string, body: string): void {
  const path = join(bin, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
}

function runBash(script: string): string {
  const result = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:/usr/bin:/bin` } });
  expect(result.status).toBe(0);
  return result.stdout;
}

describe('the iptables script', () => {
  it('counts KUBE-SVC chains and rules and shows a few of them', () => {
    // given a node where kube-proxy once ran
    standIn(
      'iptables-save',
      `cat <<'DUMP'
*nat
:PREROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-NPX46M4PTMTKRN6Y - [0:0]
:KUBE-SVC-TCOU7JCQXEZGVUNU - [0:0]
-A KUBE-SERVICES -d 10.10.0.1/32 -p tcp -j KUBE-SVC-NPX46M4PTMTKRN6Y
-A KUBE-SVC-NPX46M4PTMTKRN6Y -j KUBE-SEP-AAAA
-A KUBE-SVC-TCOU7JCQXEZGVUNU -j KUBE-SEP-BBBB
-A CILIUM_POST_nat -j ACCEPT
COMMIT
DUMP`,
    );
    // when
    const out = runBash(IPTABLES_SCRIPT);
    // then
    expect(taggedJson(out, IPTABLES_TAG)).toEqual({ kubeSvcRules: 2, kubeSvcChains: 2, backends: 'iptables-save' });
    expect(out).toContain('iptables-save: :KUBE-SVC-NPX46M4PTMTKRN6Y - [0:0]');
  });

  it('reports zero on a node with only Cilium\'s chains', () => {
    standIn('iptables-save', "printf '*nat\\n:CILIUM_POST_nat - [0:0]\\n-A CILIUM_POST_nat -j ACCEPT\\nCOMMIT\\n'");
    expect(taggedJson(runBash(IPTABLES_SCRIPT), IPTABLES_TAG)).toEqual({ kubeSvcRules: 0, kubeSvcChains: 0, backends: 'iptables-save' });
  });
});

describe('the NIC state script', () => {
  it('prints the live MTU and channels of the default-route device', () => {
    // given stand-ins for ip (default route via the loopback device, which always exists) and ethtool
    standIn('ip', "echo 'default via 192.168.10.1 dev lo proto dhcp src 192.168.10.101 metric 100'");
    standIn('ethtool', "printf 'Channel parameters for lo:\\nPre-set maximums:\\nCombined:\\t4\\nCurrent hardware settings:\\nCombined:\\t2\\n'");
    // when
    const facts = taggedJson(runBash(NIC_STATE_SCRIPT), NIC_STATE_TAG);
    // then
    expect(facts).toMatchObject({ interface: 'lo', channels: 2 });
    expect(typeof facts?.mtu).toBe('number');
  });
});

const shellcheck = spawnSync('shellcheck', ['--version']);
(shellcheck.error ? it.skip : it).each([
  ['iptables', IPTABLES_SCRIPT],
  ['nic state', NIC_STATE_SCRIPT],
  ['upstream', upstreamScript(false, 17)],
])('the %s script passes shellcheck (warning) and bash -n', (_name, script) => {
  const file = join(bin, 'script.sh');
  writeFileSync(file, script);
  const lint = spawnSync('shellcheck', ['-S', 'warning', '-s', 'bash', file], { encoding: 'utf8' });
  expect(lint.stdout).toBe('');
  expect(spawnSync('bash', ['-n', file]).status).toBe(0);
});
