import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_SCRIPTS_DIR, UNPACKED_SCRIPT_DIR, USER_DATA_LIMIT_BYTES, dropUnusedFunctions, readNodeScripts, renderNodeScript, shellQuote, stripComments, valueNames } from '../../lib/infra/node-user-data.js';
import { READY_URL_STAND_IN } from '../../lib/infra/user-data-text.js';
import { packedUserData, resourcesOfType, synthLab, userDataScript } from '../helpers/synth.js';

const scripts = readNodeScripts();

/**
 * shellcheck (warning level) over many files in one run (its start-up, not the checking, is what
 * costs: one run for all instead of one per file), each file's findings as `line: [SCnnnn] message`.
 */
function shellcheckAll(files: readonly string[], options: { cwd?: string; args?: readonly string[] } = {}): Map<string, string[]> {
  const check = spawnSync('shellcheck', ['-f', 'json1', '-S', 'warning', ...(options.args ?? []), ...files], { cwd: options.cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (check.error) throw new Error(`shellcheck is required (apt-get install shellcheck): ${check.error.message}`);
  if (check.status !== 0 && check.status !== 1) throw new Error(`shellcheck failed (exit ${check.status}): ${check.stderr}`);
  const found = new Map<string, string[]>(files.map((f) => [f, []]));
  const { comments } = JSON.parse(check.stdout) as { comments: { file: string; line: number; code: number; message: string }[] };
  // Exit 1 is "found something": a run that says so and reports nothing checked nothing.
  if (check.status === 1 && comments.length === 0) throw new Error(`shellcheck exited 1 with no finding: ${check.stderr}`);
  for (const c of comments) {
    // A finding under a name that was not given (a sourced file named otherwise) would be lost: refuse it.
    if (!found.has(c.file)) throw new Error(`shellcheck reported ${c.file}, which is not one of the files checked`);
    found.get(c.file)?.push(`${c.line}: [SC${c.code}] ${c.message}`);
  }
  return found;
}

/** Texts written to files of their own and linted together: shellcheck and bash -n complaints per key. */
function lintAll(texts: readonly (readonly [string, string])[], name: string): Map<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'cilium-lab-lint-'));
  const files = texts.map(([, text], i) => {
    const file = join(dir, `${i}-${name}`);
    writeFileSync(file, text);
    return file;
  });
  const checked = shellcheckAll(files, { args: ['-s', 'bash'] });
  return new Map(
    texts.map(([key], i) => {
      const file = files[i] as string;
      const syntax = spawnSync('bash', ['-n', file], { encoding: 'utf8' });
      return [key, `${syntax.stderr}${(checked.get(file) ?? []).join('\n')}`.trim()] as const;
    }),
  );
}

describe('renderNodeScript', () => {
  const fixture = {
    'entry.sh': '#!/usr/bin/env bash\nset -o errexit\n# lab:values begin (example)\nLAB_A="x"\nLAB_B="y"\n# lab:values end\n# lab:include helpers.sh\nsource ./helpers.sh # lab:standalone-only\nhello "$LAB_A" "$LAB_B"\n',
    'helpers.sh': '#!/usr/bin/env bash\nhello() { echo "$@"; }\n',
  };

  it('replaces the values block with readonly, quoted values', () => {
    expect(renderNodeScript(fixture, 'entry.sh', { LAB_A: "it's", LAB_B: 'b' })).toContain(`readonly LAB_A='it'\\''s'\nreadonly LAB_B='b'\n`);
  });

  it('inlines includes without their shebang and drops standalone-only lines', () => {
    const out = renderNodeScript(fixture, 'entry.sh', { LAB_A: 'a', LAB_B: 'b' });
    expect([out.split('\n').filter((l) => l.startsWith('#!')).length, out.includes('hello() {'), out.includes('source ./helpers.sh')]).toEqual([1, true, false]);
  });

  it('runs as the script it claims to be', () => {
    const out = renderNodeScript(fixture, 'entry.sh', { LAB_A: 'a b', LAB_B: '$HOME' });
    expect(spawnSync('bash', ['-c', out], { encoding: 'utf8' }).stdout).toBe('a b $HOME\n');
  });

  it('refuses values missing from the call', () => {
    expect(() => renderNodeScript(fixture, 'entry.sh', { LAB_A: 'a' })).toThrow('missing LAB_B');
  });

  it('refuses values the script does not declare', () => {
    expect(() => renderNodeScript(fixture, 'entry.sh', { LAB_A: 'a', LAB_B: 'b', LAB_C: 'c' })).toThrow('not declared LAB_C');
  });

  it('refuses an include that does not exist', () => {
    expect(() => renderNodeScript({ 'e.sh': '# lab:values begin\n# lab:values end\n# lab:include nope.sh\n' }, 'e.sh', {})).toThrow('includes nope.sh');
  });

  it('quotes CDK tokens without touching them', () => {
    expect(shellQuote('${Token[AWS.Region.4]}')).toBe("'${Token[AWS.Region.4]}'");
  });

  it('reads the scripts relative to the package, not the working directory', () => {
    expect(NODE_SCRIPTS_DIR).toMatch(/scripts\/node\/$/);
    expect(Object.keys(scripts)).toEqual(expect.arrayContaining(['lib.sh', 'prepare-node.sh', 'control-plane.sh', 'worker.sh', 'testpc.sh']));
  });
});

describe('node scripts lint clean', () => {
  // One shellcheck run over every script (following their sources), judged per script below.
  const asWritten = shellcheckAll(Object.keys(scripts), { cwd: NODE_SCRIPTS_DIR, args: ['-x'] });

  it.each(Object.keys(scripts))('%s passes shellcheck (warning) and bash -n as written', (name) => {
    const syntax = spawnSync('bash', ['-n', name], { cwd: NODE_SCRIPTS_DIR, encoding: 'utf8' });
    expect([...(asWritten.get(name) ?? ['not checked']), syntax.stderr].filter(Boolean)).toEqual([]);
  });

  it.each(['control-plane.sh', 'worker.sh', 'testpc.sh'])('%s declares its values block', (name) => {
    expect(valueNames(scripts[name] as string, name)).toEqual(expect.arrayContaining(['LAB_NODE_NAME', 'LAB_READY_URL', 'LAB_DEADLINE_SECONDS']));
  });
});

describe('rendered user data', () => {
  const labs = [
    ['Kubernetes 1.30 (kubeadm v1beta3)', synthLab()],
    ['Kubernetes 1.31 (kubeadm v1beta4)', synthLab({ 'kubernetes.version': '1.31.6', 'cilium.version': '1.17.18' })],
    ['50 workers', synthLab({ 'workers.count': '50' })],
    ['profile kube-proxy', synthLab({ profile: 'kube-proxy', 'workers.count': '1', 'testpc.enabled': 'false' })],
    ['profile eni', synthLab({ profile: 'eni', 'workers.count': '1', 'testpc.enabled': 'false' })],
  ] as const;
  const instances = labs.flatMap(([label, lab]) => resourcesOfType(lab.json, 'AWS::EC2::Instance').map(([id, instance]) => [`${label} ${id}`, instance] as const));
  const scriptCases = instances.filter(([id]) => !/50 workers NodeK8sW([2-9]|\d\d)/.test(id)).map(([id, instance]) => [id, userDataScript(instance)] as const);
  const packed = instances.map(([id, instance]) => [id, packedUserData(instance)] as const);

  const scriptLint = lintAll(scriptCases, 'user-data.sh');
  const packedLint = lintAll(packed.filter((_, i) => i < 8), 'packed-user-data.sh');

  it.each(scriptCases)('%s: the script the node runs passes shellcheck and bash -n', (id) => {
    expect(scriptLint.get(id)).toBe('');
  });

  it.each(packed.filter((_, i) => i < 8))('%s: the packed user data passes shellcheck and bash -n', (id) => {
    expect(packedLint.get(id)).toBe('');
  });

  it.each(packed)('%s fits the 16 KB user data limit (references at their real length)', (_id, text) => {
    expect(Buffer.byteLength(text)).toBeLessThan(USER_DATA_LIMIT_BYTES);
  });

  it.each(scriptCases)('%s has no template marker left', (_id, text) => {
    expect(text).not.toMatch(/# lab:(include|standalone-only|values begin)/);
  });

  it('unpacks in bash (base64 -d | gzip -dc, as the node does) to exactly the rendered script, values in place', () => {
    const [, instance] = instances[0] as (typeof instances)[number];
    const text = packedUserData(instance);
    const dir = mkdtempSync(join(tmpdir(), 'unpack-'));
    // The node writes to /var/lib/cilium-lab and execs the script; here: a temp dir, and cat instead of exec.
    const local = text.replaceAll(UNPACKED_SCRIPT_DIR, dir).replace(/^exec bash (\S+)$/m, 'cat $1; umask >&2');
    const ran = spawnSync('bash', ['-c', `umask 0022; ${local}`], { encoding: 'utf8' });
    expect(ran.status).toBe(0);
    // the boot itself runs with the usual umask: only the unpacked file was written 0600
    expect(ran.stderr.trim()).toBe('0022');
    expect(ran.stdout).toBe(userDataScript(instance));
    expect(ran.stdout).toContain(`readonly LAB_READY_URL='${READY_URL_STAND_IN}'`);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'control-plane.sh')).mode & 0o777).toBe(0o600);
  });

  it('packs the same script to the same bytes every time (deterministic synth: no time in the gzip header)', () => {
    const again = synthLab();
    const [, first] = resourcesOfType(labs[0][1].json, 'AWS::EC2::Instance')[0] as [string, any];
    const [, second] = resourcesOfType(again.json, 'AWS::EC2::Instance')[0] as [string, any];
    expect(JSON.stringify(second.Properties.UserData)).toBe(JSON.stringify(first.Properties.UserData));
  });

  it('keeps the values CloudFormation fills in outside the packed parts', () => {
    const [, instance] = instances[0] as (typeof instances)[number];
    const parts = instance.Properties.UserData['Fn::Base64']['Fn::Join'][1] as unknown[];
    const text = parts.map((p) => (typeof p === 'string' ? p : '<ref>')).join('');
    expect(text).toMatch(/<<'LAB_VALUES'\n(readonly [A-Z_0-9]+='[^\n]*'\n)+LAB_VALUES\n/);
    const values = /<<'LAB_VALUES'\n([\s\S]*?)\nLAB_VALUES/.exec(text)?.[1] ?? '';
    expect(values.split('\n').filter((l) => l.includes('<ref>')).map((l) => l.split('=')[0]).sort()).toEqual([
      'readonly LAB_JOIN_SECRET_ID',
      'readonly LAB_PUBLIC_IP',
      'readonly LAB_READY_URL',
      'readonly LAB_REGION',
    ]);
  });
});

describe('dropUnusedFunctions', () => {
  it('drops library functions nothing calls, keeps those called directly, from other kept functions or from a trap string', () => {
    const script = [
      '#!/usr/bin/env bash',
      'a::used() {',
      '  b::indirect',
      '}',
      'b::indirect() {',
      '  echo b',
      '}',
      'c::unused() {',
      '  echo c',
      '}',
      'd::trapped() {',
      '  echo d',
      '}',
      "trap 'd::trapped' EXIT",
      'a::used',
    ].join('\n');
    const out = dropUnusedFunctions(script);
    expect(out).not.toContain('c::unused');
    for (const kept of ['a::used() {', 'b::indirect() {', 'd::trapped() {']) expect(out).toContain(kept);
    expect(out.split('\n')[1]).toMatch(/^# shellcheck disable=SC2034 /);
  });

  it('leaves a script whose functions are all used as it was', () => {
    const script = '#!/usr/bin/env bash\nf::x() {\n  :\n}\nf::x';
    expect(dropUnusedFunctions(script)).toBe(script);
  });
});

describe('stripComments', () => {
  it('drops comment and blank lines but keeps the shebang and heredoc bodies', () => {
    const script = "#!/usr/bin/env bash\n# doc\n\necho hi # trailing stays\ncat <<'EOF'\n# kept: heredoc body\n\nEOF\n# gone\n";
    expect(stripComments(script)).toBe("#!/usr/bin/env bash\necho hi # trailing stays\ncat <<'EOF'\n# kept: heredoc body\n\nEOF\n");
  });
});
