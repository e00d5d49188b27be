/**
 * Writes lib/cilium/chart-keys/<version>.json (valid key paths and types of the Cilium chart)
 * from unpacked charts: <dir>/<version>/values.yaml (+ values.schema.json when present).
 *
 *   npx tsx scripts/extract-chart-facts.ts ../shared/upstream/cilium-chart
 *
 * To add a version: `helm pull cilium/cilium --version X.Y.Z --untar`, copy its values.yaml and
 * values.schema.json into <dir>/X.Y.Z/, run this script, review the diff, commit the JSON.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { extractChartKeys, serializeChartKeys, type ChartSources } from '../lib/cilium/chart-keys.js';
import { compareVersions } from '../lib/cilium/values.js';

/** Where the fixtures live. */
export const FIXTURE_DIR = fileURLToPath(new URL('../lib/cilium/chart-keys/', import.meta.url));

/** The chart versions under `dir` (folders named x.y.z holding a values.yaml), oldest first. */
export function chartVersionsIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => /^\d+\.\d+\.\d+$/.test(name) && existsSync(join(dir, name, 'values.yaml')))
    .sort(compareVersions);
}

export function readChartSources(dir: string, version: string): ChartSources {
  const schemaPath = join(dir, version, 'values.schema.json');
  return {
    version,
    valuesYaml: readFileSync(join(dir, version, 'values.yaml'), 'utf8'),
    ...(existsSync(schemaPath) ? { schemaJson: readFileSync(schemaPath, 'utf8') } : {}),
  };
}

/** The fixture text the extractor produces for one version of the chart under `dir`. */
export function fixtureTextFor(dir: string, version: string): string {
  return serializeChartKeys(extractChartKeys(readChartSources(dir, version)));
}

function main(dir: string | undefined): number {
  if (!dir) {
    console.error('usage: npx tsx scripts/extract-chart-facts.ts <dir holding <version>/values.yaml>');
    return 2;
  }
  if (!existsSync(dir)) {
    console.error(`extract-chart-facts: ${dir} does not exist; pass the folder that holds one sub-folder per chart version`);
    return 2;
  }
  const versions = chartVersionsIn(dir);
  if (versions.length === 0) {
    console.error(`extract-chart-facts: no <version>/values.yaml under ${dir}`);
    return 1;
  }
  mkdirSync(FIXTURE_DIR, { recursive: true });
  for (const version of versions) {
    const text = fixtureTextFor(dir, version);
    writeFileSync(join(FIXTURE_DIR, `${version}.json`), text);
    console.log(`${version}: ${text.split('\n').length} lines, ${text.length} bytes -> lib/cilium/chart-keys/${version}.json`);
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv[2]);
}
