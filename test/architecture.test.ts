/** Adapters at the edges: only lib/aws imports @aws-sdk, only lib/kube imports client-node. */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

const files = ['bin', 'lib', 'scripts'].flatMap((d) => sources(join(root, d))).map((f) => [relative(root, f), readFileSync(f, 'utf8')] as const);

describe('module boundaries', () => {
  it('has sources to check', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it.each([
    ['@aws-sdk/', 'lib/aws/'],
    ['@kubernetes/client-node', 'lib/kube/'],
  ])('imports %s only under %s', (pkg, allowed) => {
    const offenders = files.filter(([path, text]) => !path.startsWith(allowed) && new RegExp(`from '${pkg}`).test(text)).map(([path]) => path);
    expect(offenders).toEqual([]);
  });

  it('keeps lib/lab and lib/checks on the ports: no import of lib/aws (lazy import() at use time aside)', () => {
    const offenders = files.filter(([path, text]) => /^lib\/(lab|checks)\//.test(path) && /^import [^(]*from '[./]*\/aws\//m.test(text)).map(([path]) => path);
    expect(offenders).toEqual([]);
  });

  it('keeps the config room a one-way street: no import cycle among lib/config modules, type-only imports included', () => {
    const config = new Map(files.filter(([path]) => path.startsWith('lib/config/')).map(([path, text]) => [path, [...text.matchAll(/^import [^;]*? from '\.\/([\w-]+)\.js';/gms)].map((m) => `lib/config/${m[1]}.ts`)] as const));
    const cycles: string[] = [];
    const visit = (path: string, trail: string[]): void => {
      if (trail.includes(path)) {
        cycles.push([...trail.slice(trail.indexOf(path)), path].join(' -> '));
        return;
      }
      for (const next of config.get(path) ?? []) visit(next, [...trail, path]);
    };
    for (const path of config.keys()) visit(path, []);
    expect(config.get('lib/config/load.ts')?.length).toBeGreaterThan(0);
    expect([...new Set(cycles)]).toEqual([]);
  });

  it('keeps lib/config free of AWS, CDK and Kubernetes', () => {
    const offenders = files.filter(([path, text]) => path.startsWith('lib/config/') && /from '(aws-cdk-lib|@aws-sdk|@kubernetes)/.test(text)).map(([path]) => path);
    expect(offenders).toEqual([]);
  });
});
