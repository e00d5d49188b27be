import { fileURLToPath } from 'node:url';
/**
 * `lab cilium`: the values composed and checked before any cloud call, and the Helm script the
 * control plane receives, through the CLI on fakes of SSM and CloudFormation.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadLabConfig } from '../../lib/config/load.js';
import { planLab } from '../../lib/config/plan.js';
import { CiliumValuesError, agentRefusals, supportedChartVersions } from '../../lib/cilium/values.js';
import { ciliumInstallScript, composeLabCiliumValues, parseHelmRelease } from '../../lib/lab/cilium.js';
import { FakeLab, helmLine, scriptKind } from './harness.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lab-cilium-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function valuesFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** The values.yaml inside a rendered cilium-install.sh. */
function shippedValues(script: string): Record<string, unknown> {
  const b64 = /^readonly LAB_VALUES_B64='([A-Za-z0-9+/=]+)'$/m.exec(script)?.[1];
  expect(b64).toBeDefined();
  return parseYaml(Buffer.from(b64 as string, 'base64').toString('utf8')) as Record<string, unknown>;
}

const studyPlan = planLab(loadLabConfig({ context: {} }));

describe('composeLabCiliumValues', () => {
  it('merges cilium.yaml, xdp.yaml, the computed values and the user file, in that order', () => {
    const file = valuesFile('debug-off.yaml', 'debug:\n  enabled: false\nloadBalancer:\n  acceleration: best-effort\n');
    const prepared = composeLabCiliumValues(studyPlan, { xdp: true, userValuesFile: file });
    expect(prepared.values).toMatchObject({
      debug: { enabled: false },
      kubeProxyReplacement: true,
      k8sServiceHost: '192.168.10.10',
      k8sServicePort: 6443,
      ipv4NativeRoutingCIDR: '172.16.0.0/16',
      loadBalancer: { acceleration: 'best-effort' },
    });
    expect(prepared.sources).toEqual(['helm-values/cilium.yaml', 'helm-values/xdp.yaml', expect.stringMatching(/^values computed/), file]);
  });

  it("keeps the study's exact native-routing CIDR as an opt-in file (helm-values/study-original.yaml) that wins over the computed pod CIDR", () => {
    const file = fileURLToPath(new URL('../../helm-values/study-original.yaml', import.meta.url));
    const prepared = composeLabCiliumValues(studyPlan, { xdp: true, userValuesFile: file });
    expect(prepared.values['ipv4NativeRoutingCIDR']).toBe('192.168.0.0/16');
    expect(composeLabCiliumValues(studyPlan, { xdp: true }).values['ipv4NativeRoutingCIDR']).toBe('172.16.0.0/16');
  });

  it('leaves xdp.yaml out with xdp false', () => {
    expect(composeLabCiliumValues(studyPlan, { xdp: false }).values['loadBalancer']).toBeUndefined();
  });

  it('refuses a user file with bpf.hostRouting, naming the file, the key and the real one', () => {
    const file = valuesFile('study.yaml', 'bpf:\n  hostRouting: true\n');
    expect(() => composeLabCiliumValues(studyPlan, { xdp: true, userValuesFile: file })).toThrow(CiliumValuesError);
    expect(() => composeLabCiliumValues(studyPlan, { xdp: true, userValuesFile: file })).toThrow(
      new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} does not fit the cilium 1.16.3 chart[\\s\\S]*bpf\\.hostRouting is not a key of the cilium 1\\.16\\.3 chart; did you mean bpf\\.hostLegacyRouting\\?`),
    );
  });
});

describe('ciliumInstallScript', () => {
  it('pins the chart version and runs helm upgrade --install with the values file, --wait and a 10m timeout', () => {
    const script = ciliumInstallScript(composeLabCiliumValues(studyPlan, { xdp: true }));
    expect(script).toContain("readonly LAB_CILIUM_VERSION='1.16.3'");
    expect(script).toContain("readonly LAB_HELM_REPO_URL='https://helm.cilium.io'");
    expect(script).toContain("readonly LAB_HELM_TIMEOUT='10m'");
    // the pulled and checked chart directory, not a second download
    expect(script).toContain('helm pull cilium/cilium --version "$LAB_CILIUM_VERSION" --untar');
    expect(script).toContain('helm upgrade --install cilium "$chart" --namespace kube-system \\');
    expect(script).toContain('-f "${INSTALL_WORK}/values.yaml" --wait --timeout "$LAB_HELM_TIMEOUT"');
    expect(script).toContain('helm repo add cilium "$LAB_HELM_REPO_URL" --force-update');
    expect(shippedValues(script)).toMatchObject({ k8sServiceHost: '192.168.10.10', loadBalancer: { acceleration: 'native' } });
    expect(script).toMatch(/^readonly LAB_VALUE_PATHS='debug\.enabled\nrollOutCiliumPods\n/m);
  });
});

describe('parseHelmRelease', () => {
  it('reads the cilium release from helm list -o json', () => {
    expect(parseHelmRelease(`x\n${helmLine('3')}\n`)).toEqual({ name: 'cilium', revision: '3', status: 'deployed', chart: 'cilium-1.16.3', appVersion: '1.16.3' });
    expect(parseHelmRelease('CILIUM_LAB_HELM []\n')).toBeUndefined();
  });
});

describe('lab cilium against fakes of SSM and CloudFormation', () => {
  let lab: FakeLab | undefined;
  afterEach(async () => {
    await lab?.close();
    lab = undefined;
  });

  it('refuses a user values file with bpf.hostRouting before any AWS call: no SendCommand, not even DescribeStacks', async () => {
    lab = await FakeLab.start();
    const file = valuesFile('host-routing.yaml', 'bpf:\n  hostRouting: true\n');
    const run = await lab.run(['cilium', '--values', file]);
    expect(run.code).toBe(2);
    expect(run.result).toMatch(/bpf\.hostRouting is not a key of the cilium 1\.16\.3 chart; did you mean bpf\.hostLegacyRouting\?/);
    expect(lab.ssm.callsTo('SendCommand')).toHaveLength(0);
    expect(lab.totalCalls()).toBe(0);
  });

  it('sends the control plane, and only it, the install script with the pinned version and the lab values', async () => {
    lab = await FakeLab.start();
    const run = await lab.run(['cilium']);
    expect(run.code).toBe(0);
    expect(run.result).toContain('Helm release cilium in kube-system is deployed (revision 1, chart cilium-1.16.3');
    // first the NICs of the Kubernetes nodes (XDP is on), then the install on the control plane only
    const sends = lab.ssm.callsTo('SendCommand');
    expect(sends).toHaveLength(2);
    expect(sends[1]?.body['InstanceIds']).toEqual([lab.instanceId('k8s-s')]);
    const script = lab.ssm.scriptsSent()[1] ?? '';
    expect(scriptKind(script)).toBe('install');
    expect(script).toContain('helm upgrade --install cilium "$chart"');
    expect(script).toContain("readonly LAB_CILIUM_VERSION='1.16.3'");
    // The SSM deadline covers helm's own 10 minutes (here: the test's short budget)
    expect((sends[1]?.body['Parameters'] as Record<string, string[]>)['executionTimeout']).toEqual(['5']);
  });

  it('takes the chart version and addresses of the deployed lab, not of the command line defaults', async () => {
    lab = await FakeLab.start({ deployed: { 'kubernetes.version': '1.31.6', 'cilium.version': '1.17.18', 'controlPlane.ip': '192.168.10.20', 'network.vpcCidr': '192.168.0.0/16' } });
    const run = await lab.run(['cilium', '--no-xdp']);
    expect(run.code).toBe(0);
    const script = lab.ssm.scriptsSent()[0] ?? '';
    expect(script).toContain("readonly LAB_CILIUM_VERSION='1.17.18'");
    const values = shippedValues(script);
    expect(values['k8sServiceHost']).toBe('192.168.10.20');
    expect(values['loadBalancer']).toBeUndefined();
  });

  it('names a key the pulled chart does not know, and says nothing was installed', async () => {
    lab = await FakeLab.start({
      nodes: { 'k8s-s': { answers: { install: { exitCode: 3, stdout: 'CILIUM_LAB_UNKNOWN_KEY hubble.metrics.enableOpenMetrics\n', stderr: 'ERROR: the values do not fit\n' } } } },
    });
    const run = await lab.run(['cilium']);
    expect(run.code).toBe(1);
    expect(run.result).toMatch(/the cilium 1\.16\.3 chart pulled on k8s-s from https:\/\/helm\.cilium\.io has no key hubble\.metrics\.enableOpenMetrics/);
    expect(run.result).toContain('Nothing was installed');
  });

  it('surfaces helm failing on the node with its stderr', async () => {
    lab = await FakeLab.start({ nodes: { 'k8s-s': { answers: { install: { exitCode: 1, stderr: 'Error: UPGRADE FAILED: context deadline exceeded\n' } } } } });
    const run = await lab.run(['cilium']);
    expect(run.code).toBe(1);
    expect(run.result).toContain('helm upgrade --install cilium failed on 1 of 1 node(s)');
    expect(run.result).toContain('| Error: UPGRADE FAILED: context deadline exceeded');
  });

  it('names each pod that did not roll out after Helm, with its node and why', async () => {
    lab = await FakeLab.start({
      nodes: {
        'k8s-s': {
          answers: {
            install: {
              exitCode: 6,
              stdout: 'CILIUM_LAB_NOT_READY daemonset/cilium cilium-b9q4m k8s-w1 CrashLoopBackOff\nCILIUM_LAB_NOT_READY deployment/hubble-relay hubble-relay-5d8 k8s-w2 Pending\n',
              stderr: 'ERROR: not rolled out: daemonset/cilium, deployment/hubble-relay\n',
            },
          },
        },
      },
    });
    const run = await lab.run(['cilium']);
    expect(run.code).toBe(1);
    expect(run.result).toContain('not every component rolled out:\n  - daemonset/cilium: pod cilium-b9q4m on k8s-w1: CrashLoopBackOff\n  - deployment/hubble-relay: pod hubble-relay-5d8 on k8s-w2: Pending');
  });

  it('says what it recovered (a release an interrupted run left pending)', async () => {
    lab = await FakeLab.start({
      nodes: { 'k8s-s': { answers: { install: { stdout: `CILIUM_LAB_RECOVERED rolled back a release left pending-upgrade\n${helmLine()}\n` } } } },
    });
    const run = await lab.run(['cilium']);
    expect(run.code).toBe(0);
    expect(run.all).toContain('k8s-s: rolled back a release left pending-upgrade');
  });

  it('re-running sends the same values again (a new Helm revision; the cluster keeps its settings)', async () => {
    lab = await FakeLab.start();
    expect((await lab.run(['cilium'])).code).toBe(0);
    expect((await lab.run(['cilium'])).code).toBe(0);
    const [first, second] = lab.ssm.scriptsSent().filter((s) => scriptKind(s) === 'install');
    expect(second).toBe(first);
  });
});

describe('combinations the Cilium agent refuses at start, refused before any cloud call', () => {
  const versions = supportedChartVersions();
  const planFor = (version: string) => {
    // a Kubernetes minor each Cilium minor is tested with
    const kubernetes: Record<string, string> = { '1.16': '1.30.14', '1.17': '1.31.6', '1.18': '1.32.0', '1.19': '1.33.0', '1.20': '1.34.0' };
    return planLab(loadLabConfig({ context: { 'cilium.version': version, 'kubernetes.version': kubernetes[version.split('.').slice(0, 2).join('.')] ?? '1.30.14' } }));
  };

  it.each(versions)('cilium %s: the lab default composes with no refusal', (version) => {
    expect(() => composeLabCiliumValues(planFor(version), { xdp: true })).not.toThrow();
  });

  it.each(versions)('cilium %s: kube-proxy replacement off refuses installNoConntrackIptablesRules and an XDP that would be ignored', (version) => {
    const file = valuesFile(`kpr-off-${version}.yaml`, 'kubeProxyReplacement: false\n');
    expect(() => composeLabCiliumValues(planFor(version), { xdp: true, userValuesFile: file })).toThrow(
      /would not give a running Cilium[\s\S]*installNoConntrackIptablesRules: needs kubeProxyReplacement: true[\s\S]*loadBalancer\.acceleration: native does nothing without BPF NodePort \(kubeProxyReplacement: true, or nodePort\.enabled: true\)/,
    );
  });

  it.each(versions)('cilium %s: native routing without a native-routing CIDR is refused', (version) => {
    const file = valuesFile(`no-cidr-${version}.yaml`, 'ipv4NativeRoutingCIDR: ""\n');
    expect(() => composeLabCiliumValues(planFor(version), { xdp: false, userValuesFile: file })).toThrow(/ipv4NativeRoutingCIDR: routingMode native needs it/);
  });

  it('refuses installNoConntrackIptablesRules without BPF masquerading, and in tunnel mode', () => {
    expect(agentRefusals({ kubeProxyReplacement: true, routingMode: 'native', ipv4NativeRoutingCIDR: '172.16.0.0/16', installNoConntrackIptablesRules: true, bpf: { masquerade: false } })).toEqual([
      'installNoConntrackIptablesRules: needs bpf.masquerade: true while masquerading is on (the agent refuses to start); set bpf.masquerade: true',
    ]);
    expect(agentRefusals({ kubeProxyReplacement: 'true', installNoConntrackIptablesRules: true, bpf: { masquerade: true } })).toEqual([
      'installNoConntrackIptablesRules: needs routingMode: native (routingMode is tunnel; the agent exits in tunnel mode)',
    ]);
    // nodePort.enabled turns BPF NodePort on without kube-proxy replacement: XDP then has work to do
    expect(agentRefusals({ nodePort: { enabled: true }, loadBalancer: { acceleration: 'native' } })).toEqual([]);
    // netkit with per-endpoint routes needs scrub attributes the lab cannot promise (cilium/cilium#44960)
    expect(agentRefusals({ bpf: { datapathMode: 'netkit-l2' }, endpointRoutes: { enabled: true } })).toEqual([
      expect.stringMatching(/^endpointRoutes\.enabled: true with bpf\.datapathMode: netkit-l2 needs the netkit driver's scrub attributes .* set endpointRoutes\.enabled: false \(profile netkit does\)$/),
    ]);
    expect(agentRefusals({ bpf: { datapathMode: 'netkit' }, endpointRoutes: { enabled: false } })).toEqual([]);
    expect(agentRefusals({ bpf: { datapathMode: 'veth' }, endpointRoutes: { enabled: true } })).toEqual([]);
    // ENI IPAM never fills the Node's podCIDR: an agent requiring one waits forever
    expect(agentRefusals({ ipam: { mode: 'eni' }, k8s: { requireIPv4PodCIDR: true } })).toEqual([expect.stringMatching(/^k8s\.requireIPv4PodCIDR: true with ipam\.mode: eni makes the agent wait for a Node podCIDR/)]);
    expect(agentRefusals({ ipam: { mode: 'kubernetes' }, k8s: { requireIPv4PodCIDR: true } })).toEqual([]);
    // ip-masq-agent makes the native-routing CIDR optional
    expect(agentRefusals({ routingMode: 'native', ipMasqAgent: { enabled: true }, bpf: { masquerade: true } })).toEqual([]);
  });

  it('lab cilium refuses such values before any AWS call', async () => {
    const lab = await FakeLab.start();
    try {
      const run = await lab.run(['cilium', '--values', valuesFile('kpr.yaml', 'kubeProxyReplacement: false\n')]);
      expect(run.code).toBe(2);
      expect(run.result).toContain('installNoConntrackIptablesRules: needs kubeProxyReplacement: true');
      // a refusal worded for a person, without the class name of the error behind it
      expect(run.result).toMatch(/^lab cilium failed: cilium-lab: the composed values/);
      expect(run.result).not.toContain('CiliumValuesError');
      expect(lab.totalCalls()).toBe(0);
    } finally {
      await lab.close();
    }
  });
});

describe('lab cilium with XDP on NICs that are not tuned', () => {
  const untuned = (mtu: number, channels: number | null) => ({
    answers: { nicstate: { stdout: `CILIUM_LAB_NIC_STATE {"interface":"ens5","mtu":${mtu},"wantMtu":null,"channels":${channels},"maxChannels":4,"wantChannels":null}\n` } },
  });

  it('refuses before installing, naming each node, what it found and the fix (lab tune, or --no-xdp)', async () => {
    const lab = await FakeLab.start({ nodes: { 'k8s-w1': untuned(9001, 4), 'k8s-w2': untuned(3498, 4) } });
    try {
      const run = await lab.run(['cilium']);
      expect(run.code).toBe(1);
      expect(run.result).toContain('XDP acceleration cannot be shown to attach');
      expect(run.result).toContain('k8s-w1: ens5 MTU 9001 (XDP needs <= 3498), 4 of 4 combined channels (XDP needs <= 2)');
      expect(run.result).toContain('k8s-w2: ens5 4 of 4 combined channels (XDP needs <= 2)');
      expect(run.result).toContain('npm run lab -- tune');
      expect(lab.ssm.scriptsSent().some((s) => scriptKind(s) === 'install')).toBe(false);
    } finally {
      await lab.close();
    }
  });

  it('refuses when a node cannot say its combined channels (no proof XDP would attach)', async () => {
    const lab = await FakeLab.start({ nodes: { 'k8s-w1': untuned(3498, null) } });
    try {
      const run = await lab.run(['cilium']);
      expect(run.code).toBe(1);
      expect(run.result).toContain('k8s-w1: ens5 combined channels unreadable (ethtool -l)');
      expect(lab.ssm.scriptsSent().some((s) => scriptKind(s) === 'install')).toBe(false);
    } finally {
      await lab.close();
    }
  });

  it('installs on tuned NICs, and with --no-xdp does not look at them', async () => {
    const lab = await FakeLab.start({ nodes: { 'k8s-w1': untuned(9001, 4) } });
    try {
      const run = await lab.run(['cilium', '--no-xdp']);
      expect(run.code).toBe(0);
      expect(lab.ssm.scriptsSent().some((s) => scriptKind(s) === 'nicstate')).toBe(false);
    } finally {
      await lab.close();
    }
    const tuned = await FakeLab.start();
    try {
      expect((await tuned.run(['cilium'])).code).toBe(0);
      expect(tuned.ssm.scriptsSent().map((s) => scriptKind(s))).toEqual(['nicstate', 'install']);
    } finally {
      await tuned.close();
    }
  });
});
