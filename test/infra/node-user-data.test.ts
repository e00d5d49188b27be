import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_SCRIPTS_DIR, USER_DATA_LIMIT_BYTES, readNodeScripts, renderNodeScript, shellQuote, stripComments, valueNames } from '../../lib/infra/node-user-data.js';
import { resourcesOfType, synthLab, userDataText } from '../helpers/synth.js';

const scripts = readNodeScripts();

/** Runs shellcheck (warning level) and bash -n on a script text; returns their complaints. */
function lint(text: string, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cilium-lab-lint-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  const syntax = spawnSync('bash', ['-n', file], { encoding: 'utf8' });
  const check = spawnSync('shellcheck', ['-S', 'warning', '-s', 'bash', file], { encoding: 'utf8' });
  if (check.error) throw new Error(`shellcheck is required (apt-get install shellcheck): ${check.error.message}`);
  return `${syntax.stderr}${check.stdout}`.trim();
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
  it.each(Object.keys(scripts))('%s passes shellcheck (warning) and bash -n as written', (name) => {
    const result = spawnSync('shellcheck', ['-x', '-S', 'warning', name], { cwd: NODE_SCRIPTS_DIR, encoding: 'utf8' });
    const syntax = spawnSync('bash', ['-n', name], { cwd: NODE_SCRIPTS_DIR, encoding: 'utf8' });
    expect(`${result.stdout}${syntax.stderr}`).toBe('');
  });

  it.each(['control-plane.sh', 'worker.sh', 'testpc.sh'])('%s declares its values block', (name) => {
    expect(valueNames(scripts[name] as string, name)).toEqual(expect.arrayContaining(['LAB_NODE_NAME', 'LAB_READY_URL', 'LAB_DEADLINE_SECONDS']));
  });
});

describe('rendered user data', () => {
  const labs = [
    ['Kubernetes 1.30 (kubeadm v1beta3)', synthLab()],
    ['Kubernetes 1.31 (kubeadm v1beta4)', synthLab({ 'kubernetes.version': '1.31.6', 'cilium.version': '1.17.18' })],
  ] as const;
  const cases = labs.flatMap(([label, lab]) =>
    resourcesOfType(lab.json, 'AWS::EC2::Instance').map(([id, instance]) => [`${label} ${id}`, userDataText(instance)] as const),
  );

  it.each(cases)('%s passes shellcheck and bash -n', (_id, text) => {
    expect(lint(text, 'user-data.sh')).toBe('');
  });

  it.each(cases)('%s fits the 16 KB user data limit', (_id, text) => {
    expect(Buffer.byteLength(text)).toBeLessThan(USER_DATA_LIMIT_BYTES);
  });

  it.each(cases)('%s has no template marker left', (_id, text) => {
    expect(text).not.toMatch(/# lab:(include|standalone-only|values begin)/);
  });
});

describe('stripComments', () => {
  it('drops comment and blank lines but keeps the shebang and heredoc bodies', () => {
    const script = "#!/usr/bin/env bash\n# doc\n\necho hi # trailing stays\ncat <<'EOF'\n# kept: heredoc body\n\nEOF\n# gone\n";
    expect(stripComments(script)).toBe("#!/usr/bin/env bash\necho hi # trailing stays\ncat <<'EOF'\n# kept: heredoc body\n\nEOF\n");
  });
});
