import { Match } from 'aws-cdk-lib/assertions';
import { resourcesOfType, synthLab, userDataScript } from '../helpers/synth.js';

const instanceNamed = (json: Record<string, any>, name: string) => {
  const found = resourcesOfType(json, 'AWS::EC2::Instance').find(([, r]) => r.Properties.Tags.some((t: any) => t.Key === 'Name' && t.Value === name));
  if (!found) throw new Error(`no instance named ${name}`);
  return found[1];
};

describe('LabStack with the default (study) config', () => {
  const lab = synthLab();
  const { template, json } = lab;

  it('is named after the lab', () => {
    expect(lab.stack.stackName).toBe('cilium-lab');
  });

  it('builds the VPC 192.168.0.0/16', () => {
    template.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '192.168.0.0/16' });
  });

  it('has exactly the two study subnets, in two AZs, with public IPs', () => {
    const subnets = resourcesOfType(json, 'AWS::EC2::Subnet').map(([, r]) => [r.Properties.CidrBlock, r.Properties.AvailabilityZone['Fn::Select'][0], r.Properties.MapPublicIpOnLaunch]);
    expect(subnets).toEqual([
      ['192.168.10.0/24', 0, true],
      ['192.168.20.0/24', 1, true],
    ]);
  });

  it('has an internet gateway and no NAT gateway', () => {
    template.resourceCountIs('AWS::EC2::InternetGateway', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
  });

  it('places the four instances at their fixed IPs and types', () => {
    expect(['k8s-s', 'k8s-w1', 'k8s-w2', 'testpc'].map((n) => [instanceNamed(json, n).Properties.PrivateIpAddress, instanceNamed(json, n).Properties.InstanceType])).toEqual([
      ['192.168.10.10', 't3.xlarge'],
      ['192.168.10.101', 't3.xlarge'],
      ['192.168.10.102', 't3.xlarge'],
      ['192.168.20.100', 't3.small'],
    ]);
  });

  it("resolves Canonical's 22.04 amd64 AMI parameter at launch (no CloudFormation parameter that would replace nodes)", () => {
    expect(instanceNamed(json, 'k8s-s').Properties.ImageId).toBe('resolve:ssm:/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id');
    expect(Object.keys(json.Parameters ?? {})).toEqual(['BootstrapVersion']);
  });

  it('requires IMDSv2 on every instance', () => {
    const templates = resourcesOfType(json, 'AWS::EC2::LaunchTemplate');
    expect(templates).toHaveLength(4);
    for (const [, lt] of templates) expect(lt.Properties.LaunchTemplateData.MetadataOptions.HttpTokens).toBe('required');
  });

  it('gives every instance an encrypted gp3 root volume on /dev/sda1', () => {
    for (const [, i] of resourcesOfType(json, 'AWS::EC2::Instance')) {
      expect(i.Properties.BlockDeviceMappings).toEqual([{ DeviceName: '/dev/sda1', Ebs: { DeleteOnTermination: true, Encrypted: true, VolumeSize: 30, VolumeType: 'gp3' } }]);
    }
  });

  it('turns the source/dest check off (native routing of pod CIDRs)', () => {
    for (const [, i] of resourcesOfType(json, 'AWS::EC2::Instance')) expect(i.Properties.SourceDestCheck).toBe(false);
  });

  it('gives every instance a role with Session Manager (no key pair by default)', () => {
    for (const [, i] of resourcesOfType(json, 'AWS::EC2::Instance')) expect(i.Properties.KeyName).toBeUndefined();
    const roles = resourcesOfType(json, 'AWS::IAM::Role').filter(([, r]) => r.Properties.AssumeRolePolicyDocument.Statement[0].Principal.Service === 'ec2.amazonaws.com');
    expect(roles).toHaveLength(4);
    for (const [, role] of roles) expect(JSON.stringify(role.Properties.ManagedPolicyArns)).toContain('AmazonSSMManagedInstanceCore');
  });

  it('opens nothing to the outside by default: only lab members and the pods on them reach each other', () => {
    const ingress = [...resourcesOfType(json, 'AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties), ...resourcesOfType(json, 'AWS::EC2::SecurityGroup').flatMap(([, r]) => r.Properties.SecurityGroupIngress ?? [])];
    expect(ingress).toHaveLength(2);
    expect(ingress).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ IpProtocol: '-1', SourceSecurityGroupId: expect.anything() }),
        // native routing: cross-node pod packets keep the pod's source address (not an ENI's)
        expect.objectContaining({ IpProtocol: '-1', CidrIp: '172.16.0.0/16' }),
      ]),
    );
  });

  it('gives the control plane an Elastic IP and outputs it', () => {
    template.resourceCountIs('AWS::EC2::EIP', 1);
    template.hasResourceProperties('AWS::EC2::EIPAssociation', { InstanceId: { Ref: Match.stringLikeRegexp('NodeK8sSInstance') } });
    template.hasOutput('ControlPlanePublicIp', { Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('ControlPlaneEip'), 'PublicIp'] } });
  });

  it('puts the Elastic IP into the API server certSANs of the control plane user data', () => {
    expect(userDataScript(instanceNamed(json, 'k8s-s'))).toContain("readonly LAB_PUBLIC_IP='203.0.113.10'");
  });

  it('waits for all four instances to signal, within the bootstrap timeout', () => {
    template.hasResource('AWS::CloudFormation::WaitCondition', {
      Properties: { Count: 4, Timeout: '1800', Handle: { Ref: Match.stringLikeRegexp('ReadinessHandle') } },
      DependsOn: Match.arrayWith([Match.stringLikeRegexp('NodeK8sSInstance'), Match.stringLikeRegexp('NodeTestpcInstance')]),
    });
  });

  it('lets only the control plane write the join secret and only workers read it', () => {
    const policies = resourcesOfType(json, 'AWS::IAM::Policy').map(([, p]) => [p.Properties.Roles[0].Ref, p.Properties.PolicyDocument.Statement.flatMap((s: any) => [s.Action].flat()).sort()]);
    expect(policies).toEqual([
      [expect.stringMatching(/^NodeK8sSRole/), ['secretsmanager:PutSecretValue']],
      [expect.stringMatching(/^NodeK8sW1Role/), ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']],
      [expect.stringMatching(/^NodeK8sW2Role/), ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']],
    ]);
  });

  it('creates the join secret holding only a pending marker, deleted with the stack', () => {
    template.hasResource('AWS::SecretsManager::Secret', {
      Properties: { GenerateSecretString: { SecretStringTemplate: '{"state":"pending"}', GenerateStringKey: 'nonce' } },
      DeletionPolicy: 'Delete',
    });
  });

  it('outputs each node with its instance id and Session Manager command, and all names with IPs', () => {
    template.hasOutput('NodeAddresses', { Value: 'k8s-s=192.168.10.10,k8s-w1=192.168.10.101,k8s-w2=192.168.10.102,testpc=192.168.20.100' });
    template.hasOutput('NodeK8sW1InstanceId', { Value: { Ref: Match.stringLikeRegexp('NodeK8sW1Instance') } });
    template.hasOutput('NodeK8sSSessionCommand', { Value: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('aws ssm start-session')])] } });
  });

  it('tags every taggable resource with lab, owner, expiry, manager and kind', () => {
    const expected = [
      { Key: 'cilium-lab:expires-at', Value: 'ttl:4h' },
      { Key: 'cilium-lab:kind', Value: 'lab' },
      { Key: 'cilium-lab:lab', Value: 'cilium-lab' },
      { Key: 'cilium-lab:managed-by', Value: 'cilium-lab' },
      { Key: 'cilium-lab:owner', Value: 'study-group' },
    ];
    for (const type of ['AWS::EC2::VPC', 'AWS::EC2::Subnet', 'AWS::EC2::Instance', 'AWS::EC2::SecurityGroup', 'AWS::EC2::EIP', 'AWS::SecretsManager::Secret', 'AWS::IAM::Role']) {
      for (const [, r] of resourcesOfType(json, type)) expect(r.Properties.Tags).toEqual(expect.arrayContaining(expected));
    }
  });

  it('carries the same tags on the stack itself (what lab sweep and the CI role\'s DeleteStack condition read)', () => {
    expect(lab.stack.tags.renderTags()).toEqual(expect.arrayContaining([{ Key: 'cilium-lab:kind', Value: 'lab' }, { Key: 'cilium-lab:lab', Value: 'cilium-lab' }]));
  });

  it('skips the kube-proxy addon and sets the study CIDRs in the control plane bootstrap', () => {
    const script = userDataScript(instanceNamed(json, 'k8s-s'));
    expect(script).toContain("readonly LAB_POD_CIDR='172.16.0.0/16'");
    expect(script).toContain("readonly LAB_SERVICE_CIDR='10.10.0.0/16'");
    expect(script).toContain('  - addon/kube-proxy');
  });

  it('points the workers at the control plane private IP', () => {
    expect(userDataScript(instanceNamed(json, 'k8s-w2'))).toContain("readonly LAB_CONTROL_PLANE_ENDPOINT='192.168.10.10:6443'");
  });
});

describe('LabStack follows the config', () => {
  it('opens the API (not SSH) to the operator CIDR', () => {
    const { template } = synthLab({ 'access.operatorCidr': '198.51.100.7/32' });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: [
        { CidrIp: '172.16.0.0/16', IpProtocol: '-1', Description: Match.anyValue() },
        { CidrIp: '198.51.100.7/32', FromPort: 6443, ToPort: 6443, IpProtocol: 'tcp', Description: Match.anyValue() },
      ],
    });
  });

  it('opens SSH to the operator CIDR and sets the key when a key pair is given', () => {
    const { template, json } = synthLab({ 'access.operatorCidr': '198.51.100.7/32', 'access.keyPairName': 'study-key' });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', { SecurityGroupIngress: Match.arrayWith([Match.objectLike({ CidrIp: '198.51.100.7/32', FromPort: 22 })]) });
    for (const [, i] of resourcesOfType(json, 'AWS::EC2::Instance')) expect(i.Properties.KeyName).toBe('study-key');
  });

  it('stays under 200 outputs with 50 workers', () => {
    expect(Object.keys(synthLab({ 'workers.count': '50' }).json.Outputs).length).toBeLessThanOrEqual(200);
  });

  it('adds workers with derived names and IPs', () => {
    const { json, template } = synthLab({ 'workers.count': '3' });
    expect(instanceNamed(json, 'k8s-w3').Properties.PrivateIpAddress).toBe('192.168.10.103');
    template.hasResourceProperties('AWS::CloudFormation::WaitCondition', { Count: 5 });
  });

  it('uses the instance types given', () => {
    const { json } = synthLab({ 'nodes.instanceType': 'm6i.large', 'testpc.instanceType': 't3.micro' });
    expect([instanceNamed(json, 'k8s-w1').Properties.InstanceType, instanceNamed(json, 'testpc').Properties.InstanceType]).toEqual(['m6i.large', 't3.micro']);
  });

  it('uses the gp3 SSM path for Ubuntu 24.04 arm64', () => {
    const { json } = synthLab({ 'ubuntu.release': '24.04', 'ubuntu.arch': 'arm64', 'nodes.instanceType': 'm7g.xlarge', 'testpc.instanceType': 't4g.small' });
    expect(instanceNamed(json, 'k8s-s').Properties.ImageId).toBe('resolve:ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id');
  });

  it('leaves out the test host when disabled', () => {
    const { json, template } = synthLab({ 'testpc.enabled': 'false' });
    expect(resourcesOfType(json, 'AWS::EC2::Instance')).toHaveLength(3);
    template.hasResourceProperties('AWS::CloudFormation::WaitCondition', { Count: 3 });
  });

  it('tags owner and expiry from the config', () => {
    const { template } = synthLab({ owner: 'kans-team', expiresAt: '2026-11-23T22:00:00Z' });
    template.hasResourceProperties('AWS::EC2::VPC', {
      Tags: Match.arrayWith([{ Key: 'cilium-lab:expires-at', Value: '2026-11-23T22:00:00Z' }, { Key: 'cilium-lab:owner', Value: 'kans-team' }]),
    });
  });

  it('names the stack after labName', () => {
    expect(synthLab({ labName: 'kans-w3' }).stack.stackName).toBe('kans-w3');
  });

  it('sets the root volume size and the bootstrap timeout', () => {
    const { json, template } = synthLab({ 'nodes.rootVolumeGiB': '50', 'bootstrap.timeoutMinutes': '40' });
    expect(instanceNamed(json, 'k8s-s').Properties.BlockDeviceMappings[0].Ebs.VolumeSize).toBe(50);
    template.hasResourceProperties('AWS::CloudFormation::WaitCondition', { Timeout: '2400' });
    expect(userDataScript(instanceNamed(json, 'k8s-s'))).toContain("readonly LAB_DEADLINE_SECONDS='2280'");
  });

  it('uses kubeadm v1beta4 for Kubernetes 1.31', () => {
    const { json } = synthLab({ 'kubernetes.version': '1.31.6', 'cilium.version': '1.17.18' });
    expect(userDataScript(instanceNamed(json, 'k8s-w1'))).toContain("readonly LAB_KUBEADM_API='v1beta4'");
    expect(userDataScript(instanceNamed(json, 'k8s-w1'))).toContain("readonly LAB_K8S_PACKAGE_VERSION='1.31.6-1.1'");
  });

  it('deploys into the configured region', () => {
    expect(synthLab({ region: 'ap-northeast-2' }).stack.region).toBe('ap-northeast-2');
  });
});

describe('LabStack hands its config to the lab CLI', () => {
  it('outputs the validated LabConfig as JSON', () => {
    const lab = synthLab({ 'workers.count': '3' });
    expect(JSON.parse(lab.json.Outputs.LabConfig.Value)).toEqual(JSON.parse(JSON.stringify(lab.plan.config)));
  });
});
