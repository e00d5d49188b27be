/**
 * The lab's network: a VPC with the two exact public subnets (nodes in the first AZ, the test
 * host in the second), an internet gateway and no NAT; one security group that lets lab
 * instances (and the pods on them) talk freely to each other and lets only the operator's CIDR
 * reach the API (and SSH when a key pair is configured).
 */
import { Validations, aws_ec2 as ec2 } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { KUBE_API_PORT } from '../config/catalog.js';
import { ExactSubnetCidrs } from './exact-subnet-cidrs.js';

export interface LabNetworkProps {
  readonly vpcCidr: string;
  /** Subnet of the Kubernetes nodes (first AZ). */
  readonly nodeSubnetCidr: string;
  /** Subnet of the test host (second AZ). */
  readonly testSubnetCidr: string;
  /**
   * The Kubernetes pod CIDR. With native routing and no masquerading inside it, a pod's packet
   * leaves its node with the pod's address as source; the group-to-itself rule matches only the
   * members' ENI private addresses ("incoming traffic is allowed based on the private IP
   * addresses of the network interfaces that are associated with the source security group",
   * Amazon VPC User Guide, Security group rules, Security group referencing), so pod sources
   * need a rule of their own.
   */
  readonly podCidrs: readonly string[];
  /**
   * Where the operator connects from.
   * @default undefined - no inbound access from outside the VPC (Session Manager only)
   */
  readonly operatorCidr?: string;
  /**
   * Open SSH (22) to operatorCidr.
   * @default false
   */
  readonly allowSsh?: boolean;
  /**
   * Both subnets in one availability zone, for an instance with an interface in each (profile
   * bgp's router): "You can attach a network interface to an instance ... in the same Availability
   * Zone" (Amazon EC2 User Guide, Elastic network interfaces, Attach a network interface).
   * @default false - the node subnet in the first zone, the test subnet in the second
   */
  readonly sameAvailabilityZone?: boolean;
  /**
   * Open BGP (TCP 179) between members: the router and the Cilium nodes peer with each other;
   * nobody outside the lab's security group reaches it.
   * @default false
   */
  readonly bgp?: boolean;
}

export class LabNetwork extends Construct {
  readonly vpc: ec2.Vpc;
  readonly nodeSubnet: ec2.ISubnet;
  readonly testSubnet: ec2.ISubnet;
  /** Every lab instance is a member; members reach each other on every port. */
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: LabNetworkProps) {
    super(scope, id);
    const allowSsh = props.allowSsh ?? false;

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: new ExactSubnetCidrs(props.vpcCidr, [props.nodeSubnetCidr, props.testSubnetCidr]),
      natGateways: 0,
      // One group of a subnet per zone in two zones, or (sameAvailabilityZone) two groups in one zone.
      ...(props.sameAvailabilityZone
        ? {
            maxAzs: 1,
            subnetConfiguration: [
              { name: 'Nodes', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
              { name: 'Test', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
            ],
          }
        : { maxAzs: 2, subnetConfiguration: [{ name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }] }),
      // The default security group is unused by the lab; restricting it needs a Lambda-backed
      // custom resource, which this lab does not otherwise need.
      restrictDefaultSecurityGroup: false,
    });
    Validations.of(this.vpc).acknowledge({
      id: 'AwsSolutions-VPC7',
      reason: 'A short-lived study lab: flow visibility comes from Hubble inside the cluster; VPC flow logs would add cost and a log group to clean up.',
    });
    const [nodeSubnet, testSubnet] = this.vpc.publicSubnets;
    if (!nodeSubnet || !testSubnet) {
      throw new Error('the lab VPC must have two public subnets');
    }
    this.nodeSubnet = nodeSubnet;
    this.testSubnet = testSubnet;

    this.securityGroup = new ec2.SecurityGroup(this, 'LabSecurityGroup', {
      vpc: this.vpc,
      description: 'cilium-lab instances: all traffic between members; API/SSH only from the operator CIDR',
      allowAllOutbound: true,
    });
    this.securityGroup.addIngressRule(this.securityGroup, ec2.Port.allTraffic(), 'lab instances talk to each other (NodePorts, Hubble, health checks)');
    if (props.bgp) {
      // Already inside the all-traffic rule above; stated on its own so the template says who may speak BGP.
      this.securityGroup.addIngressRule(this.securityGroup, ec2.Port.tcp(179), 'BGP between the router and the Cilium nodes (lab members only)');
    }
    for (const pods of props.podCidrs) {
      this.securityGroup.addIngressRule(ec2.Peer.ipv4(pods), ec2.Port.allTraffic(), 'pods on other lab nodes (native routing keeps pod source addresses)');
    }
    if (props.operatorCidr) {
      const operator = ec2.Peer.ipv4(props.operatorCidr);
      this.securityGroup.addIngressRule(operator, ec2.Port.tcp(KUBE_API_PORT), 'Kubernetes API from the operator');
      if (allowSsh) {
        this.securityGroup.addIngressRule(operator, ec2.Port.tcp(22), 'SSH from the operator (a key pair is configured)');
      }
      if (props.operatorCidr.endsWith('/0')) {
        Validations.of(this.securityGroup).acknowledge({
          id: 'AwsSolutions-EC23',
          reason: 'The operator set access.allowWorldAccess=true to open the API to 0.0.0.0/0 on purpose.',
        });
      }
    }
  }
}
