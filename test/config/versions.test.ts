/**
 * Versions that look right but do not exist are refused before any cloud call, saying what
 * exists: a Kubernetes patch the lab's catalog of published patches does not list, a Cilium patch
 * the lab has no chart facts for. The catalog's parser reads pkgs.k8s.io's apt index format, and
 * its renderer writes the file as it is.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CILIUM_MINORS, KUBERNETES_MINORS } from '../../lib/config/catalog.js';
import { KUBERNETES_PATCHES, latestPatchInPackages, renderKubernetesPatches } from '../../lib/config/kubernetes-patches.js';
import { LabConfigError, loadLabConfig } from '../../lib/config/load.js';

const problems = (context: Record<string, unknown>): string[] => {
  try {
    loadLabConfig({ context });
    return [];
  } catch (error) {
    if (error instanceof LabConfigError) return [...error.problems];
    throw error;
  }
};

describe('Kubernetes patch releases', () => {
  it.each(['1.30.14', '1.31.14', '1.32.13', '1.33.10', '1.34.8', '1.34.0'])('accepts %s, a published patch', (version) => {
    const cilium = version.startsWith('1.30') ? '1.16.3' : '1.19.6';
    expect(problems({ 'kubernetes.version': version, 'cilium.version': cilium })).toEqual([]);
  });

  it('refuses a patch after the end of a minor, naming the field, the last patch and its source', () => {
    expect(problems({ 'kubernetes.version': '1.30.15' })).toEqual([
      'kubernetes.version: Kubernetes 1.30.15 is not a patch the lab knows was published: 1.30 has 1.30.0 to 1.30.14 (https://kubernetes.io/releases/1.30/ (end of life, latest patch 1.30.14), as of 2025-07-15); use 1.30.14, or if 1.30.15 was published since, refresh the catalog with `npx tsx scripts/refresh-kubernetes-patches.ts`',
    ]);
  });

  it('refuses a patch newer than the catalog knows, saying how to refresh it', () => {
    const [problem] = problems({ 'kubernetes.version': '1.34.99', 'cilium.version': '1.19.6' });
    expect(problem).toMatch(/^kubernetes\.version: Kubernetes 1\.34\.99 is not a patch the lab knows was published: 1\.34 has 1\.34\.0 to 1\.34\.8 .*as of 2026-05-12\); use 1\.34\.8, or .*refresh-kubernetes-patches\.ts/);
  });

  it('has a catalog entry for every minor the lab bootstraps, and none other', () => {
    expect(Object.keys(KUBERNETES_PATCHES).sort()).toEqual(Object.keys(KUBERNETES_MINORS).sort());
    for (const entry of Object.values(KUBERNETES_PATCHES)) expect(entry.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('reads the newest kubeadm patch of a minor from a pkgs.k8s.io Packages index', () => {
    const stanza = (pkg: string, version: string) =>
      `Package: ${pkg}\nArchitecture: amd64\nVersion: ${version}\nMaintainer: Kubernetes Authors <dev@kubernetes.io>\nFilename: ${pkg}_${version}_amd64.deb\nSize: 10000000\nSHA256: ${'0'.repeat(64)}\nDescription: ${pkg}\n`;
    const index = [stanza('kubeadm', '1.30.0-1.1'), stanza('kubelet', '1.30.99-1.1'), stanza('kubeadm', '1.30.14-1.1'), stanza('kubeadm', '1.30.9-1.1'), stanza('cri-tools', '1.30.1-1.1')].join('\n');
    expect(latestPatchInPackages(index, '1.30')).toBe(14);
    expect(latestPatchInPackages(index, '1.31')).toBeUndefined();
  });

  it('is the file its renderer writes (the refresh script changes only the table)', () => {
    const file = readFileSync(fileURLToPath(new URL('../../lib/config/kubernetes-patches.ts', import.meta.url)), 'utf8');
    expect(renderKubernetesPatches(KUBERNETES_PATCHES, file)).toBe(file);
    const refreshed = renderKubernetesPatches({ ...KUBERNETES_PATCHES, '1.34': { latest: 11, asOf: '2026-12-02', source: 'https://pkgs.k8s.io/core:/stable:/v1.34/deb/Packages' } }, file);
    expect(refreshed).toContain("  '1.34': { latest: 11, asOf: '2026-12-02', source: 'https://pkgs.k8s.io/core:/stable:/v1.34/deb/Packages' },");
    expect(refreshed.replace(/  '1\.34'.*\n/, '')).toBe(file.replace(/  '1\.34'.*\n/, ''));
  });
});

describe('Cilium chart versions', () => {
  it('refuses a patch the lab has no chart facts for, naming the one it has', () => {
    expect(problems({ 'cilium.version': '1.16.4' })).toEqual([
      "cilium.version: Cilium 1.16.4 is not a chart the lab has facts for (the keys it checks the values against); for Cilium 1.16 it has 1.16.3: use 1.16.3, or add 1.16.4's with `npx tsx scripts/extract-chart-facts.ts <its unpacked chart>` and its CILIUM_MINORS entry",
    ]);
  });

  it('has chart facts for exactly the chart version of each Cilium minor', () => {
    const files = readdirSync(fileURLToPath(new URL('../../lib/cilium/chart-keys/', import.meta.url)))
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.replace(/\.json$/, ''))
      .sort();
    expect(Object.values(CILIUM_MINORS).map((m) => m.chartVersion).sort()).toEqual(files);
  });
});
