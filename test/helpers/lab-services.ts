/** A deployed lab as the CLI finds it (its stack outputs) and the services of a test world. */
import { OUTPUTS } from '../../lib/config/outputs.js';
import type { LabPlan } from '../../lib/config/plan.js';
import type { RemoteRunner } from '../../lib/lab/remote-runner.js';
import type { LabServices } from '../../lib/lab/services.js';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabWorld, PUBLIC_IP } from '../checks/lab-world.js';
import { noArtifacts } from '../lab/harness.js';

export function stackOutputsOf(plan: LabPlan): Record<string, string> {
  return {
    [OUTPUTS.controlPlanePublicIp]: PUBLIC_IP,
    [OUTPUTS.nodeAddresses]: plan.instances.map((n) => `${n.name}=${n.privateIp}`).join(','),
    [OUTPUTS.labConfig]: JSON.stringify(plan.config),
    [OUTPUTS.kubernetesVersion]: plan.kubernetes.version,
    [OUTPUTS.ciliumVersion]: plan.config.cilium.version,
    ...Object.fromEntries(plan.instances.map((n, i) => [OUTPUTS.nodeOutput(n.name, 'InstanceId'), `i-0${String(i + 1).padStart(16, '0')}`])),
  };
}

/** The lab's services with the world's remote runner and no EC2 or artifacts behind them. */
export function worldServices(plan: LabPlan, remote: RemoteRunner): LabServices {
  return {
    stackOutputs: async () => stackOutputsOf(plan),
    remote,
    ec2: { instanceTypes: async () => [], instances: async () => [], images: async () => [] },
    artifacts: noArtifacts,
    agentsNotOnline: async () => ({}),
  };
}

/**
 * Each test of the file gets a fresh lab world and a state directory of its own (CILIUM_LAB_STATE_DIR,
 * the lab's kubeconfig in it), both gone after the test.
 */
export function useLabWorld(plan: LabPlan): { world: () => LabWorld; dir: () => string } {
  let world: LabWorld | undefined;
  let dir = '';
  const saved = process.env.CILIUM_LAB_STATE_DIR;
  beforeEach(async () => {
    world = await LabWorld.start();
    dir = mkdtempSync(join(tmpdir(), 'lab-world-'));
    process.env.CILIUM_LAB_STATE_DIR = join(dir, 'state');
    mkdirSync(join(dir, 'state', plan.config.labName), { recursive: true });
    world.api.writeKubeconfig(join(dir, 'state', plan.config.labName));
  });
  afterEach(async () => {
    await world?.close();
    world = undefined;
    rmSync(dir, { recursive: true, force: true });
    if (saved === undefined) delete process.env.CILIUM_LAB_STATE_DIR;
    else process.env.CILIUM_LAB_STATE_DIR = saved;
  });
  return { world: () => world as LabWorld, dir: () => dir };
}
