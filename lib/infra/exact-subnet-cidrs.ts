/**
 * An IIpAddresses that gives the VPC its exact CIDR and each requested subnet an exact CIDR,
 * in order. ec2.Vpc's own allocator can only carve equal-sized blocks from the start of the
 * range; the study lab needs 192.168.10.0/24 and 192.168.20.0/24 precisely.
 */
import type { aws_ec2 as ec2 } from 'aws-cdk-lib';

export class ExactSubnetCidrs implements ec2.IIpAddresses {
  constructor(
    private readonly vpcCidr: string,
    private readonly subnetCidrs: readonly string[],
  ) {}

  allocateVpcCidr(): ec2.VpcIpamOptions {
    return { cidrBlock: this.vpcCidr };
  }

  allocateSubnetsCidr(input: ec2.AllocateCidrRequest): ec2.SubnetIpamOptions {
    if (input.requestedSubnets.length !== this.subnetCidrs.length) {
      throw new Error(
        `ExactSubnetCidrs holds ${this.subnetCidrs.length} subnet CIDRs but the VPC asked for ${input.requestedSubnets.length} subnets; ` +
          'give one CIDR per availability zone and subnet group',
      );
    }
    return { allocatedSubnets: this.subnetCidrs.map((cidr) => ({ cidr })) };
  }
}
