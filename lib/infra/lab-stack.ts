/**
 * LabStack: the whole study lab in one stack. Network, join secret, instances with rendered
 * user data, the control plane's Elastic IP, readiness, outputs and tags. What happens after
 * deploy (NIC tuning, Cilium, checks) is the `lab` CLI's job; it finds this stack by its outputs.
 */
import { CfnOutput, Duration, Stack, Tags, aws_ec2 as ec2, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { LabNode, LabPlan } from '../config/plan.js';
import { OUTPUTS, outputKey } from '../config/outputs.js';
import { labTags } from '../config/tags.js';
import { LabArtifacts } from './lab-artifacts.js';
import { JoinSecret } from './join-secret.js';
import { LabExpiry } from './lab-expiry.js';
import { ttlSeconds } from '../config/expiry.js';
import { ubuntuAmiParameter } from '../config/catalog.js';
import { profileOf } from '../config/profiles.js';
import { LabInstance } from './lab-instance.js';
import { ciliumOperatorEniPolicy } from './cilium-operator-eni.js';
import { LabNetwork } from './lab-network.js';
import { NodeReadiness } from './node-readiness.js';
import { ROLE_SCRIPTS, nodeScriptValues } from './node-script-values.js';
import { renderNodeUserData, type NodeScripts } from './node-user-data.js';

export interface LabStackProps extends StackProps {
  readonly plan: LabPlan;
  /** The scripts of scripts/node (readNodeScripts()). */
  readonly nodeScripts: NodeScripts;
}

/** Canonical's AMI parameter of a release the lab picks itself (the router's): it exists for both architectures, or the catalog is wrong. */
function amiParameterOf(release: string, arch: 'amd64' | 'arm64'): string {
  const name = ubuntuAmiParameter(release, arch);
  if (!name) throw new Error(`lib/config/catalog.ts has no Canonical AMI parameter for Ubuntu ${release} ${arch}`);
  return name;
}

export class LabStack extends Stack {
  readonly network: LabNetwork;
  readonly instances: ReadonlyMap<string, LabInstance>;

  constructor(scope: Construct, id: string, props: LabStackProps) {
    super(scope, id, {
      description: `cilium-lab ${props.plan.config.labName}: kubeadm ${props.plan.kubernetes.version} without kube-proxy, ready for Cilium ${props.plan.config.cilium.version}`,
      ...props,
    });
    const { plan } = props;
    const config = plan.config;

    const tags = labTags(config);
    for (const [key, value] of Object.entries(tags)) Tags.of(this).add(key, value);

    this.network = new LabNetwork(this, 'Network', {
      vpcCidr: config.network.vpcCidr,
      nodeSubnetCidr: config.network.nodeSubnetCidr,
      testSubnetCidr: config.network.testSubnetCidr,
      // Where the lab's profile gives pods their addresses (study: kubernetes.podCidr; cluster-pool: its pools).
      podCidrs: profileOf(config).podRanges(config),
      operatorCidr: config.access.operatorCidr,
      allowSsh: config.access.keyPairName !== undefined,
      // A router with an interface in each subnet (profile bgp): both subnets in its zone, BGP among members.
      ...(plan.router ? { sameAvailabilityZone: true, bgp: true } : {}),
    });
    const joinSecret = new JoinSecret(this, 'JoinSecret');
    const readiness = new NodeReadiness(this, 'Readiness', {
      count: plan.instances.length,
      timeout: Duration.minutes(config.bootstrap.timeoutMinutes),
    });
    const controlPlaneEip = new ec2.CfnEIP(this, 'ControlPlaneEip', { domain: 'vpc' });
    const artifacts = new LabArtifacts(this, 'Artifacts', { labName: config.labName, tags });

    const refs = {
      region: this.region,
      readyUrl: readiness.signalUrl,
      joinSecretArn: joinSecret.secret.secretArn,
      controlPlanePublicIp: controlPlaneEip.attrPublicIp,
    };
    const instances = new Map<string, LabInstance>();
    for (const node of plan.instances) {
      const instance = new LabInstance(this, `Node${outputKey(node.name)}`, {
        nodeName: node.name,
        instanceType: node.instanceType,
        privateIp: node.privateIp,
        subnet: node.subnet === 'nodes' ? this.network.nodeSubnet : this.network.testSubnet,
        vpc: this.network.vpc,
        securityGroup: this.network.securityGroup,
        // Canonical's parameter of the lab's release, or of the instance's own (the router's).
        amiParameterName: node.ubuntuRelease ? amiParameterOf(node.ubuntuRelease, config.ubuntu.arch) : plan.amiParameterName,
        userData: renderNodeUserData(props.nodeScripts, ROLE_SCRIPTS[node.role], nodeScriptValues(plan, node, refs)),
        rootVolumeGiB: config.nodes.rootVolumeGiB,
        keyPairName: config.access.keyPairName,
        ...(node.secondInterface
          ? { secondInterface: { subnet: node.secondInterface.subnet === 'nodes' ? this.network.nodeSubnet : this.network.testSubnet, privateIp: node.secondInterface.privateIp } }
          : {}),
      });
      if (node.role === 'control-plane') {
        joinSecret.grantPublish(instance.role);
        if (profileOf(config).infra?.ciliumOperatorEni) {
          // Cilium's operator (pinned to the control plane) attaches the pods' ENIs (profile eni).
          ciliumOperatorEniPolicy(this, 'CiliumOperatorEni', {
            labName: config.labName,
            vpc: this.network.vpc,
            nodeSubnet: this.network.nodeSubnet,
            securityGroup: this.network.securityGroup,
          }).attachToRole(instance.role);
        }
      } else if (node.role === 'worker') {
        joinSecret.grantJoin(instance.role);
      } else if (node.role === 'router') {
        // Two interfaces: its public address is an Elastic IP (lib/infra/lab-instance.ts attachSecondInterface).
        // Associated by instance while it has one interface: "The instance must have exactly one attached
        // network interface ... If the instance has more than one network interface, you must specify a
        // network interface ID" (AWS::EC2::EIPAssociation, InstanceId), so the second ENI attaches after it.
        const eip = new ec2.CfnEIP(this, 'RouterEip', { domain: 'vpc' });
        const association = new ec2.CfnEIPAssociation(this, 'RouterEipAssociation', { allocationId: eip.attrAllocationId, instanceId: instance.instance.instanceId });
        instance.secondInterfaceAttachment?.addResourceDependency(association);
      }
      readiness.waitFor(instance.cfnInstance);
      instance.cfnInstance.addResourceDependency(artifacts.emptiedOnDelete);
      instances.set(node.name, instance);
      this.addNodeOutputs(node, instance);
    }
    this.instances = instances;

    const controlPlane = instances.get(plan.controlPlane.name) as LabInstance;
    new ec2.CfnEIPAssociation(this, 'ControlPlaneEipAssociation', {
      allocationId: controlPlaneEip.attrAllocationId,
      instanceId: controlPlane.instance.instanceId,
    });

    new CfnOutput(this, OUTPUTS.controlPlanePublicIp, {
      value: controlPlaneEip.attrPublicIp,
      description: 'Elastic IP of the control plane; in the API server certificate',
    });
    new CfnOutput(this, OUTPUTS.nodeAddresses, {
      value: plan.instances.map((n) => `${n.name}=${n.privateIp}`).join(','),
      description: 'Every lab instance and its private IP, control plane first',
    });
    new CfnOutput(this, OUTPUTS.labConfig, {
      value: JSON.stringify(config),
      description: 'The validated LabConfig of this lab; the lab CLI reads it back',
    });
    new CfnOutput(this, OUTPUTS.kubernetesVersion, { value: plan.kubernetes.version });
    new CfnOutput(this, OUTPUTS.ciliumVersion, { value: config.cilium.version, description: 'Installed after deploy by `npm run lab -- up`' });
    // Every lab expires unless its config says ttl=none: at expiresAt when given (lab deploy), else ttl after the deploy.
    const ttl = ttlSeconds(config.ttl);
    if (config.expiresAt !== undefined) {
      new LabExpiry(this, 'Expiry', { labName: config.labName, tags, expiresAt: config.expiresAt });
    } else if (ttl !== undefined) {
      new LabExpiry(this, 'Expiry', { labName: config.labName, tags, ttlSeconds: ttl, ttl: config.ttl });
    }
  }

  private addNodeOutputs(node: LabNode, instance: LabInstance): void {
    new CfnOutput(this, OUTPUTS.nodeOutput(node.name, 'InstanceId'), { value: instance.instance.instanceId, description: `${node.name} (${node.role}, ${node.privateIp})` });
    new CfnOutput(this, OUTPUTS.nodeOutput(node.name, 'SessionCommand'), {
      value: `aws ssm start-session --region ${this.region} --target ${instance.instance.instanceId}`,
      description: `shell on ${node.name} through Session Manager`,
    });
  }
}
