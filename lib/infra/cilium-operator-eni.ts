/**
 * The EC2 permissions Cilium's operator needs for ENI IPAM (profile eni), on the control plane's
 * instance role: the operator runs on the host network there (chart default operator.hostNetwork,
 * pinned by helm-values/profiles/eni.yaml) and takes the instance profile's credentials from IMDS.
 *
 * The actions are Cilium's "Required Privileges" list (cilium/cilium
 * Documentation/network/concepts/ipam/eni.rst, main in 2026-11: DeleteNetworkInterface,
 * DescribeInstanceTypes, DescribeNetworkInterfaces, DescribeSubnets, DescribeVpcs,
 * DescribeRouteTables, DescribeSecurityGroups, CreateNetworkInterface, AttachNetworkInterface,
 * ModifyNetworkInterfaceAttribute, AssignPrivateIpAddresses, CreateTags,
 * DescribeManagedPrefixLists, GetManagedPrefixListEntries), plus the ones it lists as conditional
 * (DescribeTags, UnassignPrivateIpAddresses, DescribeInstances) and DetachNetworkInterface (its
 * garbage collection of ENIs). Older releases need a subset of these.
 *
 * Writes are scoped as far as IAM allows (Service Authorization Reference, Amazon EC2): new ENIs
 * only in the lab's node subnet with the lab's security group, tagged only as they are created;
 * changes only to ENIs in the lab's VPC (ec2:Vpc); attachments only to the lab's instances (their
 * cilium-lab:lab tag). Describe* and the prefix-list reads take no resource scope.
 */
import { Stack, Validations, aws_ec2 as ec2, aws_iam as iam } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { LAB_TAGS } from '../config/tags.js';

export interface CiliumOperatorEniProps {
  readonly labName: string;
  readonly vpc: ec2.IVpc;
  readonly nodeSubnet: ec2.ISubnet;
  readonly securityGroup: ec2.ISecurityGroup;
}

/** The read actions of the list: no resource-level scope exists for them. */
export const ENI_READ_ACTIONS = [
  'ec2:DescribeInstanceTypes',
  'ec2:DescribeInstances',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeRouteTables',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeSubnets',
  'ec2:DescribeTags',
  'ec2:DescribeVpcs',
  'ec2:DescribeManagedPrefixLists',
  'ec2:GetManagedPrefixListEntries',
] as const;

/** The actions on existing ENIs, scoped to the lab's VPC. */
export const ENI_WRITE_ACTIONS = [
  'ec2:AttachNetworkInterface',
  'ec2:DetachNetworkInterface',
  'ec2:DeleteNetworkInterface',
  'ec2:ModifyNetworkInterfaceAttribute',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
] as const;

export function ciliumOperatorEniPolicy(scope: Construct, id: string, props: CiliumOperatorEniProps): iam.Policy {
  const stack = Stack.of(scope);
  const arn = (resource: string, name: string) => stack.formatArn({ service: 'ec2', resource, resourceName: name });
  const eniArns = arn('network-interface', '*');
  const policy = new iam.Policy(scope, id, {
    statements: [
      new iam.PolicyStatement({ sid: 'ReadEc2', actions: [...ENI_READ_ACTIONS], resources: ['*'] }),
      new iam.PolicyStatement({
        sid: 'CreateEniInLabSubnet',
        actions: ['ec2:CreateNetworkInterface'],
        resources: [eniArns, arn('subnet', props.nodeSubnet.subnetId), arn('security-group', props.securityGroup.securityGroupId)],
      }),
      new iam.PolicyStatement({
        sid: 'TagEniAtCreation',
        actions: ['ec2:CreateTags'],
        resources: [eniArns],
        conditions: { StringEquals: { 'ec2:CreateAction': 'CreateNetworkInterface' } },
      }),
      new iam.PolicyStatement({
        sid: 'ChangeEniInLabVpc',
        actions: [...ENI_WRITE_ACTIONS],
        resources: [eniArns],
        conditions: { StringEquals: { 'ec2:Vpc': arn('vpc', props.vpc.vpcId) } },
      }),
      new iam.PolicyStatement({
        sid: 'AttachToLabInstances',
        // ModifyNetworkInterfaceAttribute too: the operator sets the attachment's
        // DeleteOnTermination right after attaching, and that names the instance.
        actions: ['ec2:AttachNetworkInterface', 'ec2:DetachNetworkInterface', 'ec2:ModifyNetworkInterfaceAttribute'],
        resources: [arn('instance', '*')],
        conditions: { StringEquals: { [`aws:ResourceTag/${LAB_TAGS.lab}`]: props.labName } },
      }),
    ],
  });
  Validations.of(policy).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: "Cilium's operator must describe instance types, subnets, VPCs, route tables, security groups and ENIs; EC2's Describe* actions have no resource-level scope.",
  });
  Validations.of(policy).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*]',
    reason: "The operator's ENIs do not exist before it creates them; every write on them is held to the lab's VPC (ec2:Vpc) or to creation time (ec2:CreateAction).",
  });
  Validations.of(policy).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:instance/*]',
    reason: "Attach, detach and the attachment's DeleteOnTermination are held to instances tagged with this lab's name (aws:ResourceTag).",
  });
  return policy;
}
