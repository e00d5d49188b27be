/** kubeadm skipped the kube-proxy addon: neither its DaemonSet nor its ConfigMap exists. */
import { EXPECT } from '../expectations.js';
import { KUBE_SYSTEM, describeWorkload } from '../helpers.js';
import type { Scenario } from '../types.js';

export const noKubeProxy: Scenario = {
  name: 'no-kube-proxy',
  proves: 'the cluster runs without kube-proxy, so every Service is served by Cilium alone',
  expectations: [EXPECT.noKubeProxyDaemonSet, EXPECT.noKubeProxyConfigMap],
  async run(run) {
    const ds = await run.env.kube.getDaemonSet(KUBE_SYSTEM, 'kube-proxy');
    run.record(`get daemonset ${KUBE_SYSTEM}/kube-proxy`, ds ? describeWorkload(ds, 'kube-proxy') : 'NotFound');
    const cm = await run.env.kube.getConfigMap(KUBE_SYSTEM, 'kube-proxy');
    run.record(`get configmap ${KUBE_SYSTEM}/kube-proxy`, cm ? `found, keys: ${Object.keys(cm.data).join(', ') || 'none'}` : 'NotFound');
    run.expect(EXPECT.noKubeProxyDaemonSet, ds === undefined, ds ? `kube-proxy DaemonSet present (${describeWorkload(ds, 'kube-proxy')})` : 'no kube-proxy DaemonSet');
    run.expect(EXPECT.noKubeProxyConfigMap, cm === undefined, cm ? 'kube-proxy ConfigMap present' : 'no kube-proxy ConfigMap');
  },
};
