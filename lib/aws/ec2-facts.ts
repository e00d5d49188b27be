/**
 * The EC2 facts the lab reads before it touches the nodes (read-only calls): instance types
 * (hypervisor, ENA support), instances (AMI, state, addresses) and AMIs (ENA support).
 *
 * EC2 answers a whole request with an error when one of the ids it was given does not exist
 * (InvalidInstanceType, InvalidInstanceID.NotFound, InvalidAMIID.NotFound/Unavailable/Malformed).
 * This adapter then asks for the ids one by one and leaves the unknown ones out of the answer, so
 * the caller can name exactly which one is missing.
 */
import {
  DescribeImagesCommand,
  DescribeInstanceTypesCommand,
  DescribeInstancesCommand,
  EC2Client,
  type EC2ClientConfig,
  type _InstanceType,
} from '@aws-sdk/client-ec2';
import type { Ec2Facts, ImageFacts, InstanceFacts, InstanceTypeFacts } from '../lab/services.js';

/** An EC2Client for the lab; `endpoint`, `credentials` and `maxAttempts` are for tests and tools. */
export function createEc2Client(config: Pick<EC2ClientConfig, 'region' | 'endpoint' | 'credentials' | 'maxAttempts'>): EC2Client {
  return new EC2Client(config);
}

const errorName = (error: unknown): string => (error as { name?: string } | undefined)?.name ?? '';

/**
 * `describe(ids)` for all ids at once; when EC2 refuses the batch because one id is unknown
 * (`unknown(error)`), asks for each id alone and drops those EC2 does not know.
 */
async function describeTolerant<T>(ids: readonly string[], describe: (ids: string[]) => Promise<T[]>, unknown: (error: unknown) => boolean): Promise<T[]> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return [];
  try {
    return await describe(unique);
  } catch (error) {
    if (!unknown(error)) throw error;
    if (unique.length === 1) return [];
  }
  const each = await Promise.all(
    unique.map(async (id) => {
      try {
        return await describe([id]);
      } catch (error) {
        if (unknown(error)) return [];
        throw error;
      }
    }),
  );
  return each.flat();
}

export class Ec2FactsAdapter implements Ec2Facts {
  constructor(private readonly ec2: EC2Client) {}

  instanceTypes(types: readonly string[]): Promise<InstanceTypeFacts[]> {
    return describeTolerant(
      types,
      async (batch) => {
        const out: InstanceTypeFacts[] = [];
        let nextToken: string | undefined;
        do {
          const page = await this.ec2.send(
            new DescribeInstanceTypesCommand({ InstanceTypes: batch as _InstanceType[], ...(nextToken ? { NextToken: nextToken } : {}) }),
          );
          for (const info of page.InstanceTypes ?? []) {
            if (!info.InstanceType) continue;
            out.push({
              instanceType: info.InstanceType,
              ...(info.Hypervisor ? { hypervisor: info.Hypervisor } : {}),
              ...(info.BareMetal !== undefined ? { bareMetal: info.BareMetal } : {}),
              ...(info.NetworkInfo?.EnaSupport ? { enaSupport: info.NetworkInfo.EnaSupport } : {}),
            });
          }
          nextToken = page.NextToken;
        } while (nextToken);
        return out;
      },
      (error) => errorName(error) === 'InvalidInstanceType',
    );
  }

  instances(instanceIds: readonly string[]): Promise<InstanceFacts[]> {
    return describeTolerant(
      instanceIds,
      async (batch) => {
        const out: InstanceFacts[] = [];
        let nextToken: string | undefined;
        do {
          const page = await this.ec2.send(new DescribeInstancesCommand({ InstanceIds: batch, ...(nextToken ? { NextToken: nextToken } : {}) }));
          for (const reservation of page.Reservations ?? []) {
            for (const instance of reservation.Instances ?? []) {
              if (!instance.InstanceId) continue;
              out.push({
                instanceId: instance.InstanceId,
                ...(instance.ImageId ? { imageId: instance.ImageId } : {}),
                ...(instance.InstanceType ? { instanceType: instance.InstanceType } : {}),
                ...(instance.State?.Name ? { state: instance.State.Name } : {}),
                ...(instance.PublicIpAddress ? { publicIp: instance.PublicIpAddress } : {}),
                ...(instance.PrivateIpAddress ? { privateIp: instance.PrivateIpAddress } : {}),
              });
            }
          }
          nextToken = page.NextToken;
        } while (nextToken);
        return out;
      },
      (error) => errorName(error).startsWith('InvalidInstanceID'),
    );
  }

  images(imageIds: readonly string[]): Promise<ImageFacts[]> {
    return describeTolerant(
      imageIds,
      async (batch) => {
        const page = await this.ec2.send(new DescribeImagesCommand({ ImageIds: batch, IncludeDeprecated: true }));
        return (page.Images ?? []).flatMap((image) =>
          image.ImageId
            ? [
                {
                  imageId: image.ImageId,
                  ...(image.Name ? { name: image.Name } : {}),
                  ...(image.EnaSupport !== undefined ? { enaSupport: image.EnaSupport } : {}),
                },
              ]
            : [],
        );
      },
      (error) => errorName(error).startsWith('InvalidAMIID'),
    );
  }
}
