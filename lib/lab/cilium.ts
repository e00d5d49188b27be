/**
 * `lab cilium`: the lab's Cilium Helm values and their installation on the control plane.
 *
 * Values, later wins: helm-values/cilium.yaml, helm-values/xdp.yaml (unless --no-xdp), the values
 * computed from the lab (API server address, native-routing CIDR), the user's own file
 * (--values). Every key is checked against the key list of the pinned chart version
 * (lib/cilium/chart-keys/<version>.json) before any cloud call; the node checks them again
 * against the chart Helm actually pulls (scripts/node/cilium-install.sh), then runs
 * `helm upgrade --install`.
 */
import { KUBERNETES_PASSTHROUGH_KEYS, type ChartKeys } from '../cilium/chart-keys.js';
import {
  SHIPPED_VALUES_DIR,
  CiliumValuesError,
  agentRefusals,
  assertValuesFitChart,
  composeCiliumValues,
  flattenValues,
  labComputedValues,
  loadChartKeys,
  loadValuesFile,
  renderCiliumValuesYaml,
  type HelmValues,
} from '../cilium/values.js';
import type { LabPlan } from '../config/plan.js';
import { profileOf } from '../config/profiles.js';
import { assertStepSucceeded, renderLabScript, runStep, taggedJson, taggedLines, RemoteStepError, type PhaseDeps } from './remote.js';
import type { LabTarget } from './target.js';

/** The Helm repository of the Cilium chart. */
export const CILIUM_HELM_REPO = 'https://helm.cilium.io';
/** helm upgrade --wait --timeout. */
export const HELM_TIMEOUT = '10m';

export interface CiliumValueOptions {
  /** Apply helm-values/xdp.yaml. */
  readonly xdp: boolean;
  /** The user's own values file, merged last. */
  readonly userValuesFile?: string;
}

export interface LabCiliumValues {
  readonly version: string;
  readonly values: HelmValues;
  /** The values file as sent to the node. */
  readonly yaml: string;
  /** Where the values came from, in merge order. */
  readonly sources: readonly string[];
}

/**
 * Composes and checks the values of a lab (pure but for reading the shipped files, the chart
 * fixture and the user's file). Throws CiliumValuesError naming each unknown key with the nearest
 * valid one; the user's file is checked on its own first, so the message names it.
 */
export function composeLabCiliumValues(plan: LabPlan, options: CiliumValueOptions, chart: ChartKeys = loadChartKeys(plan.config.cilium.version)): LabCiliumValues {
  const version = plan.config.cilium.version;
  const base = loadValuesFile(new URL('cilium.yaml', SHIPPED_VALUES_DIR));
  const profile = profileOf(plan.config);
  // XDP acceleration only where the profile allows it (kube-proxy: no BPF NodePort to accelerate).
  const xdp = options.xdp && profile.xdp !== false;
  const overlays = [
    ...(xdp ? [{ name: 'xdp.yaml', values: loadValuesFile(new URL('xdp.yaml', SHIPPED_VALUES_DIR)) }] : []),
    ...(profile.helmOverlay ? [{ name: `profiles/${profile.helmOverlay}`, values: loadValuesFile(new URL(`profiles/${profile.helmOverlay}`, SHIPPED_VALUES_DIR)) }] : []),
  ];
  const user = options.userValuesFile !== undefined ? loadValuesFile(options.userValuesFile) : undefined;
  if (user && options.userValuesFile !== undefined) assertValuesFitChart(user, chart, options.userValuesFile);
  const sources = [
    'helm-values/cilium.yaml',
    ...(xdp ? ['helm-values/xdp.yaml'] : []),
    ...(profile.helmOverlay ? [`helm-values/profiles/${profile.helmOverlay} (profile ${profile.name})`] : []),
    `values computed from the lab (k8sServiceHost, k8sServicePort, ipv4NativeRoutingCIDR${profile.computedValues ? `, profile ${profile.name}'s` : ''})`,
    ...(options.userValuesFile !== undefined ? [options.userValuesFile] : []),
  ];
  const values = composeCiliumValues({ base, overlays, computed: labComputedValues(plan), ...(user ? { userOverrides: user } : {}) });
  assertValuesFitChart(values, chart, `the composed values (${sources.join(' + ')})`);
  const refused = agentRefusals(values);
  if (refused.length > 0) throw new CiliumValuesError(refused, `the composed values (${sources.join(' + ')}) would not give a running Cilium ${version}`);
  const header = [`Cilium ${version} values of lab ${plan.config.labName}, written by the lab CLI (lab cilium).`, 'Merged in this order, later wins:', ...sources.map((s) => `  - ${s}`)].join('\n');
  return { version, values, yaml: renderCiliumValuesYaml(values, header), sources };
}

/** The install script for the control plane, with the values inlined (base64). */
export function ciliumInstallScript(prepared: LabCiliumValues): string {
  return renderLabScript('cilium-install.sh', {
    LAB_CILIUM_VERSION: prepared.version,
    LAB_HELM_REPO_URL: CILIUM_HELM_REPO,
    LAB_HELM_TIMEOUT: HELM_TIMEOUT,
    LAB_VALUES_B64: Buffer.from(prepared.yaml, 'utf8').toString('base64'),
    LAB_VALUE_PATHS: Object.keys(flattenValues(prepared.values)).join('\n'),
    LAB_OPEN_KEYS: KUBERNETES_PASSTHROUGH_KEYS.join(' '),
  });
}

export interface HelmRelease {
  readonly name: string;
  readonly revision: string;
  readonly status: string;
  readonly chart: string;
  readonly appVersion: string;
}

/** The release from the CILIUM_LAB_HELM line (`helm list -o json`), or undefined. */
export function parseHelmRelease(stdout: string): HelmRelease | undefined {
  const list = taggedJson(stdout, 'CILIUM_LAB_HELM');
  if (!Array.isArray(list)) return undefined;
  const entry = list.find((r: unknown) => (r as { name?: unknown } | null)?.name === 'cilium') as Record<string, unknown> | undefined;
  if (!entry) return undefined;
  const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
  return { name: 'cilium', revision: str(entry['revision']), status: str(entry['status']), chart: str(entry['chart']), appVersion: str(entry['app_version']) };
}

/** Installs or upgrades Cilium on the control plane; throws naming what the node refused. */
export async function installCilium(deps: PhaseDeps, target: LabTarget, prepared: LabCiliumValues): Promise<HelmRelease> {
  const cp = target.controlPlane;
  deps.info(`  helm upgrade --install cilium ${prepared.version} on ${cp.name} (values: ${prepared.sources.length} layer(s), ${Object.keys(flattenValues(prepared.values)).length} keys)`);
  const [result] = await runStep(deps, [cp], ciliumInstallScript(prepared), 'cilium', deps.timeouts.ciliumMs);
  if (!result) throw new Error('cilium-lab: the install ran on no node');
  const unknown = taggedLines(result.stdout, 'CILIUM_LAB_UNKNOWN_KEY');
  if (unknown.length > 0) {
    throw new RemoteStepError(
      `cilium-lab: the cilium ${prepared.version} chart pulled on ${cp.name} from ${CILIUM_HELM_REPO} has no key ${unknown.join(', ')}, ` +
        `although lib/cilium/chart-keys/${prepared.version}.json lists it: the fixture and the published chart differ. Nothing was installed; ` +
        `regenerate the fixture with scripts/extract-chart-facts.ts from the published chart, or remove the key.`,
    );
  }
  for (const recovered of taggedLines(result.stdout, 'CILIUM_LAB_RECOVERED')) deps.info(`  ${cp.name}: ${recovered}`);
  const notReady = taggedLines(result.stdout, 'CILIUM_LAB_NOT_READY');
  if (notReady.length > 0) {
    const rows = notReady.map((line) => {
      const [component, pod, node, ...reason] = line.split(' ');
      return `  - ${component}: pod ${pod} on ${node}: ${reason.join(' ') || 'not ready'}`;
    });
    const lead = result.exitCode === 6 ? `Helm installed cilium ${prepared.version}, but not every component rolled out` : `helm upgrade --install cilium ${prepared.version} failed (exit ${result.exitCode}); pods not ready`;
    throw new RemoteStepError(
      `cilium-lab: ${lead}:\n${rows.join('\n')}\n` +
        'its logs: kubectl -n kube-system logs <pod> (or npm run lab -- logs, which adds a cilium sysdump)',
    );
  }
  assertStepSucceeded([result], 'helm upgrade --install cilium');
  const release = parseHelmRelease(result.stdout);
  if (!release) throw new RemoteStepError(`cilium-lab: helm upgrade --install ended on ${cp.name} but helm list shows no release "cilium" in kube-system`);
  if (release.status !== 'deployed') throw new RemoteStepError(`cilium-lab: the Helm release cilium is ${release.status} (revision ${release.revision}), not deployed`);
  return release;
}
