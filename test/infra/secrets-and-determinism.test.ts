import { resourcesOfType, synthLab, userDataScript } from '../helpers/synth.js';

describe('no secret in the template', () => {
  const { json } = synthLab({ 'access.operatorCidr': '198.51.100.7/32', 'access.keyPairName': 'study-key', 'workers.count': '3' });
  const text = JSON.stringify(json);
  const userData = resourcesOfType(json, 'AWS::EC2::Instance').map(([, i]) => userDataScript(i)).join('\n');

  it.each([
    ['a kubeadm bootstrap token', /\b[a-z0-9]{6}\.[a-z0-9]{16}\b/],
    ['a private key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
    ['a kubeconfig', /client-(certificate|key)-data|apiVersion: v1\s+kind: Config/],
    ['a CA hash value', /sha256:[0-9a-f]{64}/],
    ['--discovery-token-unsafe-skip-ca-verification', /unsafe-skip-ca-verification/],
  ])('holds no %s (template or user data)', (_what, pattern) => {
    expect(text).not.toMatch(pattern);
    expect(userData).not.toMatch(pattern);
  });

  it('names no output after a secret', () => {
    expect(Object.keys(json.Outputs).filter((key) => /token|kubeconfig|secret|password/i.test(key))).toEqual([]);
  });

  it('creates the join token at boot and prints it nowhere', () => {
    expect(userData).toContain('kubeadm token generate');
    expect(userData).toContain('--skip-token-print');
  });
});

describe('deterministic synth', () => {
  it('gives byte-identical templates for the same config', () => {
    const context = { 'workers.count': '3', expiresAt: '2026-11-23T22:00:00Z' };
    expect(JSON.stringify(synthLab(context).json)).toBe(JSON.stringify(synthLab(context).json));
  });

  it('changes the template when the config changes (the comparison can fail)', () => {
    expect(JSON.stringify(synthLab({ 'workers.count': '3' }).json)).not.toBe(JSON.stringify(synthLab({ 'workers.count': '2' }).json));
  });
});
