/**
 * Refreshes lib/config/kubernetes-patches.ts: for every Kubernetes minor the lab bootstraps
 * (KUBERNETES_MINORS), reads pkgs.k8s.io's apt index, the one the nodes install from, and writes
 * the newest kubeadm patch it lists with today's date. Needs the network; run it when a minor
 * gets a new patch (the lab refuses unknown patches until then).
 *
 *   npx tsx scripts/refresh-kubernetes-patches.ts [--dry-run]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KUBERNETES_MINORS } from '../lib/config/catalog.js';
import { KUBERNETES_PATCHES, latestPatchInPackages, renderKubernetesPatches, type PublishedPatches } from '../lib/config/kubernetes-patches.js';

const FILE = fileURLToPath(new URL('../lib/config/kubernetes-patches.ts', import.meta.url));
const indexUrl = (minor: string): string => `https://pkgs.k8s.io/core:/stable:/v${minor}/deb/Packages`;

async function main(argv: readonly string[]): Promise<void> {
  const today = new Date().toISOString().slice(0, 10);
  const catalog: Record<string, PublishedPatches> = { ...KUBERNETES_PATCHES };
  for (const minor of Object.keys(KUBERNETES_MINORS)) {
    const response = await fetch(indexUrl(minor), { signal: AbortSignal.timeout(30_000) });
    if (!response.ok) throw new Error(`${indexUrl(minor)}: HTTP ${response.status}`);
    const latest = latestPatchInPackages(await response.text(), minor);
    if (latest === undefined) throw new Error(`${indexUrl(minor)} lists no kubeadm ${minor}.x`);
    const before = KUBERNETES_PATCHES[minor]?.latest;
    catalog[minor] = { latest, asOf: today, source: indexUrl(minor) };
    process.stdout.write(`${minor}: ${minor}.${latest}${before !== undefined && before !== latest ? ` (was ${minor}.${before})` : ''}\n`);
  }
  const text = renderKubernetesPatches(catalog, readFileSync(FILE, 'utf8'));
  if (argv.includes('--dry-run')) process.stdout.write(text);
  else writeFileSync(FILE, text);
}

await main(process.argv.slice(2));
