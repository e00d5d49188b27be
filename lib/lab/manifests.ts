/**
 * The Kubernetes resources of the lab's profile (LabProfile.resources: profile bgp's BGP configs
 * and LoadBalancer IP pool), applied on the control plane after Helm by `lab up`
 * (scripts/node/apply-manifests.sh: waits for the definitions, checks they serve the rendered API
 * version, then server-side apply). Re-running applies the same objects again and changes nothing.
 */
import { stringify as stringifyYaml } from 'yaml';
import type { ProfileResources } from '../bgp/resources.js';
import { profileOf } from '../config/profiles.js';
import { assertStepSucceeded, renderLabScript, runStep, taggedLines, RemoteStepError, type PhaseDeps } from './remote.js';
import type { LabTarget } from './target.js';

/** The field manager of every object the lab applies (kubectl apply --server-side). */
export const FIELD_MANAGER = 'cilium-lab';
/** How long the script waits for Cilium's operator to register the definitions. */
export const CRD_WAIT_SECONDS = 180;

/** The profile's resources, or undefined when it has none. */
export function profileResources(target: LabTarget): ProfileResources | undefined {
  return profileOf(target.plan.config).resources?.(target.plan);
}

/**
 * The objects as one multi-document YAML file, written for YAML 1.1 readers: kubectl reads
 * manifests with sigs.k8s.io/yaml (go-yaml v2, YAML 1.1), where a bare No, yes or on is a boolean
 * (goyaml.v2 resolve.go), so every such string is quoted ("No" of allowFirstLastIPs, an enum of
 * strings, would otherwise reach the API server as false and be refused).
 */
export function resourcesYaml(resources: ProfileResources): string {
  return resources.objects.map((o) => stringifyYaml(o, { lineWidth: 0, version: '1.1' })).join('---\n');
}

export function applyManifestsScript(resources: ProfileResources): string {
  return renderLabScript('apply-manifests.sh', {
    LAB_MANIFEST_B64: Buffer.from(resourcesYaml(resources), 'utf8').toString('base64'),
    LAB_CRDS: resources.crds.join(' '),
    LAB_FIELD_MANAGER: FIELD_MANAGER,
    LAB_CRD_WAIT_SECONDS: String(CRD_WAIT_SECONDS),
  });
}

export interface AppliedResources {
  /** kind.group/name and kubectl's verdict (serverside-applied). */
  readonly applied: readonly { readonly object: string; readonly verdict: string }[];
  /** Each definition and the versions it serves. */
  readonly crds: readonly { readonly name: string; readonly served: readonly string[] }[];
}

export async function applyProfileResources(deps: PhaseDeps, target: LabTarget, resources: ProfileResources): Promise<AppliedResources> {
  const cp = target.controlPlane;
  deps.info(`  kubectl apply --server-side ${resources.objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')} on ${cp.name}`);
  const [result] = await runStep(deps, [cp], applyManifestsScript(resources), 'apply profile resources', deps.timeouts.quickMs + CRD_WAIT_SECONDS * 1000);
  if (!result) throw new Error('cilium-lab: the apply ran on no node');
  const crds = taggedLines(result.stdout, 'CILIUM_LAB_CRD').map((line) => {
    const [name = '', served = ''] = line.split(' ');
    return { name, served: served.split(',').filter((v) => v !== '') };
  });
  const missing = taggedLines(result.stdout, 'CILIUM_LAB_CRD_VERSION_MISSING');
  if (missing.length > 0) {
    const [name = '', version = ''] = (missing[0] as string).split(' ');
    const served = crds.find((c) => c.name === name)?.served.join(', ') || 'no version';
    throw new RemoteStepError(
      `cilium-lab: ${name} on ${cp.name} serves ${served}, not ${version}, which the lab renders for Cilium ${target.plan.config.cilium.version} ` +
        '(lib/bgp/resources.ts BGP_API_VERSIONS); nothing was applied. The installed Cilium is not the one the lab config names, or the table is wrong for it.',
    );
  }
  if (result.exitCode === 4) {
    throw new RemoteStepError(`cilium-lab: ${cp.name}: ${result.stderr.trim().split('\n').at(-1) ?? 'a custom resource definition never became Established'}`);
  }
  assertStepSucceeded([result], 'kubectl apply of the profile resources');
  const applied = taggedLines(result.stdout, 'CILIUM_LAB_APPLIED').map((line) => {
    const [object = '', verdict = ''] = line.split(' ');
    return { object, verdict };
  });
  if (applied.length !== resources.objects.length) {
    throw new RemoteStepError(`cilium-lab: kubectl apply on ${cp.name} reported ${applied.length} object(s), not the ${resources.objects.length} sent: ${applied.map((a) => a.object).join(', ') || 'none'}`);
  }
  return { applied, crds };
}
