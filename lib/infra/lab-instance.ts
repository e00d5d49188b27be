/**
 * One lab instance: an Ubuntu EC2 instance at a fixed private IP, with its own role (SSM
 * managed), IMDSv2 required, an encrypted gp3 root volume on /dev/sda1, source/dest check off
 * (native routing sends pod CIDRs through the VPC) and the rendered user data.
 */
import { Validations, aws_ec2 as ec2, aws_iam as iam, type CfnResource } from 'aws-cdk-lib';
import { Construct } from 'constructs';

export interface LabInstanceProps {
  /** Node name: hostname, Kubernetes node name and EC2 Name tag. */
  readonly nodeName: string;
  readonly instanceType: string;
  readonly privateIp: string;
  readonly subnet: ec2.ISubnet;
  readonly vpc: ec2.IVpc;
  readonly securityGroup: ec2.ISecurityGroup;
  /** Canonical's SSM parameter, resolved by EC2 at launch (the template keeps the name, not an AMI id). */
  readonly amiParameterName: string;
  /** The complete user data script. */
  readonly userData: string;
  readonly rootVolumeGiB: number;
  /**
   * A second network interface, in another subnet of the same zone (profile bgp's router), with
   * source/destination check off like the first: the router forwards packets that are not its own.
   * @default undefined - one interface
   */
  readonly secondInterface?: { readonly subnet: ec2.ISubnet; readonly privateIp: string };
  /**
   * EC2 key pair for SSH.
   * @default undefined - no key; use Session Manager
   */
  readonly keyPairName?: string;
}

export class LabInstance extends Construct {
  readonly instance: ec2.Instance;
  readonly role: iam.Role;
  /** The attachment of the second network interface, when there is one (the stack orders the Elastic IP before it). */
  secondInterfaceAttachment: ec2.CfnNetworkInterfaceAttachment | undefined;

  constructor(scope: Construct, id: string, props: LabInstanceProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `cilium-lab ${props.nodeName}: Session Manager, Run Command and the join secret`,
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      reason: 'AmazonSSMManagedInstanceCore is the AWS-maintained minimum for Session Manager and Run Command, which the lab uses instead of SSH.',
    });

    const userData = ec2.UserData.custom(props.userData);
    this.instance = new ec2.Instance(this, 'Instance', {
      vpc: props.vpc,
      vpcSubnets: { subnets: [props.subnet] },
      instanceType: new ec2.InstanceType(props.instanceType),
      // resolveSsmParameterAtLaunch, not fromSsmParameter: the AMI is resolved when the instance
      // launches, so a new Canonical AMI does not replace nodes whose fixed IPs would then clash
      // ("address in use", aws/aws-cdk#31635). Synth needs no lookup.
      machineImage: ec2.MachineImage.resolveSsmParameterAtLaunch(props.amiParameterName, { os: ec2.OperatingSystemType.LINUX, userData }),
      userData,
      role: this.role,
      securityGroup: props.securityGroup,
      privateIpAddress: props.privateIp,
      sourceDestCheck: false,
      requireImdsv2: true,
      propagateTagsToVolumeOnCreation: true,
      instanceName: props.nodeName,
      keyPair: props.keyPairName ? ec2.KeyPair.fromKeyPairName(this, 'KeyPair', props.keyPairName) : undefined,
      blockDevices: [
        {
          deviceName: '/dev/sda1',
          volume: ec2.BlockDeviceVolume.ebs(props.rootVolumeGiB, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3, deleteOnTermination: true }),
        },
      ],
    });
    // ImageId is EC2's own `resolve:ssm:` reference, resolved by RunInstances at launch; the
    // CloudFormation schema only knows literal ami-ids. (Dynamic AMI via SSM:
    // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/using-systems-manager-parameter-to-find-AMI.html)
    Validations.of(this.instance).acknowledge({
      id: 'CloudFormation-Validate::E1152',
      reason: 'ImageId "resolve:ssm:<Canonical parameter>" is resolved by EC2 at launch, which the schema format check does not know.',
    });
    Validations.of(this.instance).acknowledge({
      id: 'AwsSolutions-EC28',
      reason: 'Detailed monitoring costs extra and a lab lives for hours; node health is checked by `lab check`.',
    });
    if (props.secondInterface) this.attachSecondInterface(props, props.secondInterface);
    Validations.of(this.instance).acknowledge({
      id: 'AwsSolutions-EC29',
      reason: 'A disposable lab must be deletable in one step (lab down, auto-expiry); termination protection and ASGs would block that.',
    });
  }

  /**
   * The second interface is attached after launch (device index 1): launched with one interface the
   * instance is an ordinary ec2.Instance; its public address then comes from an Elastic IP (the
   * stack's), since "you can't auto-assign a public IP address if you specify more than one
   * network interface" and an instance with several loses its auto-assigned one at stop/start
   * (Amazon VPC User Guide, IP addressing, Public IPv4 addresses).
   */
  private attachSecondInterface(props: LabInstanceProps, second: NonNullable<LabInstanceProps['secondInterface']>): void {
    const eni = new ec2.CfnNetworkInterface(this, 'SecondInterface', {
      subnetId: second.subnet.subnetId,
      privateIpAddress: second.privateIp,
      groupSet: [props.securityGroup.securityGroupId],
      sourceDestCheck: false,
      description: `cilium-lab ${props.nodeName}: second interface (${second.privateIp})`,
      tags: [{ key: 'Name', value: `${props.nodeName}-second` }],
    });
    this.secondInterfaceAttachment = new ec2.CfnNetworkInterfaceAttachment(this, 'SecondInterfaceAttachment', {
      instanceId: this.instance.instanceId,
      networkInterfaceId: eni.ref,
      deviceIndex: '1',
      deleteOnTermination: true,
    });
  }

  get cfnInstance(): CfnResource {
    return this.instance.node.defaultChild as CfnResource;
  }
}
