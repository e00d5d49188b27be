/**
 * The template passes cdk-nag AwsSolutions with zero unacknowledged findings (each
 * acknowledgement carries its reason beside the resource) and CDK's CloudFormation schema
 * validation (@aws-cdk/core:validateAgainstDefaultRules, on in cdk.json).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, CfnResource, Stack, Validations, aws_ec2 as ec2 } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildLabApp } from '../../lib/infra/app.js';
import { synthLab } from '../helpers/synth.js';

const configs: [string, Record<string, unknown>][] = [
  ['the default lab', {}],
  ['operator access with SSH', { 'access.operatorCidr': '198.51.100.7/32', 'access.keyPairName': 'study-key' }],
  ['world access, explicitly allowed', { 'access.operatorCidr': '0.0.0.0/0', 'access.allowWorldAccess': 'true' }],
  ['an expiring lab (auto-expiry schedule)', { expiresAt: '2026-11-23T22:00:00Z' }],
  ['a 5-worker arm64 lab on 24.04', { 'workers.count': '5', 'ubuntu.release': '24.04', 'ubuntu.arch': 'arm64', 'nodes.instanceType': 'm7g.xlarge', 'testpc.instanceType': 't4g.small' }],
  ['profile cluster-pool with two pools', { profile: 'cluster-pool', 'clusterPool.cidrs': '10.200.0.0/16,10.201.0.0/16' }],
  ['profile netkit', { profile: 'netkit' }],
  ['profile kube-proxy', { profile: 'kube-proxy' }],
  ['profile eni (the operator\'s EC2 policy on the control plane)', { profile: 'eni' }],
];

describe('cdk-nag AwsSolutions', () => {
  it.each(configs)('finds nothing unacknowledged in %s', (_name, context) => {
    const { stack } = synthLab(context);
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
  });

  it('gives every acknowledgement a reason', () => {
    const { stack } = synthLab({ 'access.operatorCidr': '0.0.0.0/0', 'access.allowWorldAccess': 'true' });
    const acknowledgements = stack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).flatMap((m) => Object.entries(m.data as Record<string, string>)));
    expect(acknowledgements.map(([id]) => id)).toEqual(expect.arrayContaining(['Annotation::AwsSolutions-VPC7', 'Annotation::AwsSolutions-EC23', 'Annotation::AwsSolutions-SMG4']));
    for (const [, reason] of acknowledgements) expect(reason.length).toBeGreaterThan(40);
  });

  it('does report a finding when a resource breaks a rule (the check is live)', () => {
    const { stack } = synthLab();
    new ec2.SecurityGroup(stack, 'Probe', { vpc: (stack as any).network.vpc }).addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(22));
    expect(new AwsSolutionsChecks().validateScope(stack).violations.map((v) => v.ruleName)).toContain('AwsSolutions-EC23');
  });
});

describe('CloudFormation schema validation', () => {
  const cdkContext = (JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> }).context;

  /** One real synth (the way `cdk synth` does it), returning the CloudFormation plugin's report. */
  function synthReport(context: Record<string, unknown>, build: (app: App) => void = (app) => buildLabApp(app)) {
    const outdir = mkdtempSync(join(tmpdir(), 'cilium-lab-synth-'));
    const app = new App({ outdir, context: { ...cdkContext, ...context } });
    build(app);
    let error: unknown;
    try {
      app.synth();
    } catch (e) {
      error = e;
    }
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8'));
    return { error, cfn: report.pluginReports.find((p: any) => p.pluginName === 'CloudFormation Validate') };
  }

  it.each([...configs, ['a 50-worker lab', { 'workers.count': '50' }] as [string, Record<string, unknown>]])('synthesises %s with no violation', (_name, context) => {
    const { error, cfn } = synthReport(context);
    expect(error).toBeUndefined();
    expect([cfn.conclusion, cfn.violations]).toEqual(['success', []]);
  });

  it('does report a schema violation (the engine is live, also through the shared test engine)', () => {
    const { error, cfn } = synthReport({}, (app) => {
      const stack = new Stack(app, 'Broken');
      new CfnResource(stack, 'Volume', { type: 'AWS::EC2::Volume', properties: { AvailabilityZone: 'ap-northeast-2a', Size: 'thirty', VolumeType: 'gp7' } });
    });
    expect(error).toBeDefined();
    expect(cfn.conclusion).toBe('failure');
    expect(cfn.violations.map((v: any) => v.ruleName)).toContain('F3012'); // Size: 'thirty' is not of type 'integer'
  });

  it('treats findings as errors (the flag is on)', () => {
    const { app } = synthLab();
    expect(app.node.tryGetContext('@aws-cdk/core:validateAgainstDefaultRules')).toBe(true);
  });
});
