/**
 * Every refusal of bad input, on every command that takes input, before any AWS call: the same
 * exit code (2), one worded message naming what to fix, never an internal prefix (a class name,
 * "Error:") or a stack trace. And `cdk synth` of a bad config refuses the same way.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../lib/lab/cli.js';
import { allCommands } from '../../lib/lab/commands/index.js';
import { REFUSAL_EXIT_CODE } from '../../lib/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'lab-refusals-'));
const yamlNumbers = join(dir, 'numbers.yaml');
writeFileSync(yamlNumbers, 'kubernetes:\n  version: 1.30\n');

const noCloud = () => {
  throw new Error('a refusal must come before any AWS call');
};
const commands = allCommands({
  deploy: { createCloud: noCloud },
  lifecycle: { createCloud: noCloud, defaultRegion: async () => undefined },
});

async function lab(argv: string[]): Promise<{ code: number; text: string }> {
  const lines: string[] = [];
  const code = await runCli(argv, { commands, createServices: noCloud, out: () => ({ info: (l) => lines.push(l), result: (l) => lines.push(l) }) });
  return { code, text: lines.join('\n') };
}

const INTERNAL = /\b[A-Z][A-Za-z]*Error: |^Error: |\n\s+at .+:\d+:\d+/m;

describe('every refusal of the lab CLI', () => {
  it.each([
    ['a setting out of range', ['deploy', '-c', 'workers.count=0'], /workers\.count: must be at least 1/],
    ['a malformed -c flag', ['up', '-c', 'workers.count'], /-c workers\.count: write a lab setting as key=value/],
    ['a config file that is not there', ['up', '-c', `config=${join(dir, 'missing.yaml')}`], /config: cannot read /],
    ['an unquoted YAML number', ['up', '-c', `config=${yamlNumbers}`], /kubernetes\.version: .*quote/],
    ['a Kubernetes patch never published', ['deploy', '-c', 'kubernetes.version=1.30.15'], /kubernetes\.version: Kubernetes 1\.30\.15 is not a patch/],
    ['an instance size not sold', ['deploy', '-c', 'nodes.instanceType=t3.xlage'], /nodes\.instanceType: t3\.xlage is not an EC2 instance type/],
    ['an unknown option', ['check', '--junt', 'x.xml'], /Unknown option '--junt'/],
    ['an unknown command', ['deplyo'], /unknown command "deplyo"/],
    ['a lifetime too long', ['deploy', '--ttl', '30d'], /--ttl 30d: write a lifetime of at most 14 days/],
    ['no expiry with an expiry', ['deploy', '--ttl', 'none', '-c', 'expiresAt=2030-01-01T00:00:00Z'], /ttl: none contradicts expiresAt/],
    ['an expiry in the past', ['deploy', '-c', 'expiresAt=2020-01-01T00:00:00Z'], /expiresAt: 2020-01-01T00:00:00Z is not in the future/],
    ['a bad --since', ['logs', '--since', '0h'], /--since 0h: give how far back/],
    ['a bad --older-than', ['sweep', '--older-than', 'soon'], /--older-than: "soon" is not a duration/],
    ['an empty --owner', ['sweep', '--owner', ''], /--owner: give the cilium-lab:owner tag value/],
    ['a bad --port', ['hubble', '--port', '70000'], /--port 70000: give a TCP port/],
    ['a bad --mtu', ['up', '--mtu', '99999'], /mtu/i],
    ['a values file that is not there', ['up', '--values', join(dir, 'nope.yaml')], /nope\.yaml/],
    ['lab cost without a region', ['cost'], /region: lab cost needs the lab's region/],
  ])('%s: exit 2, one worded message, no class name or stack', async (_what, argv, message) => {
    const run = await lab(argv);
    expect([run.code, run.text]).toEqual([REFUSAL_EXIT_CODE, expect.stringMatching(message)]);
    expect(run.text).not.toMatch(INTERNAL);
  });
});

describe('cdk synth of a bad config', () => {
  const app = fileURLToPath(new URL('../../bin/cilium-lab.ts', import.meta.url));
  const synth = (context: Record<string, unknown>): Promise<{ code: number | null; stderr: string }> =>
    new Promise((resolve) => {
      // As the cdk CLI runs the app: the context in CDK_CONTEXT_JSON, the assembly into CDK_OUTDIR.
      const child = spawn(process.execPath, ['--import', 'tsx', app], {
        env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: mkdtempSync(join(dir, 'out-')) },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    });

  it('refuses with the same exit code and worded lines, for the lab and the CI access stack', async () => {
    const [lab, ci] = await Promise.all([synth({ 'workers.count': 0 }), synth({ 'ci.branch': 'main' })]);
    for (const run of [lab, ci]) {
      expect(run.code).toBe(REFUSAL_EXIT_CODE);
      expect(run.stderr).toMatch(/^cilium-lab: the lab configuration is invalid:\n {2}- /);
      expect(run.stderr).not.toMatch(INTERNAL);
    }
    expect(lab.stderr).toContain('workers.count: must be at least 1');
    expect(ci.stderr).toMatch(/ci\.githubRepo/);
  });
});
