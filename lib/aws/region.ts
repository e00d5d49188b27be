/**
 * The region the AWS SDK would use when none is given: AWS_REGION, AWS_DEFAULT_REGION... then the
 * profile's `region` in ~/.aws/config (AWS_PROFILE, AWS_CONFIG_FILE), the same chain every other
 * command's clients resolve. No network call: the SDK's region provider reads environment and
 * files only (IMDS is not in the region chain of the JavaScript SDK v3 for Node).
 */
import { EC2Client } from '@aws-sdk/client-ec2';

/** The SDK's default region, or undefined when neither the environment nor the profile names one. */
export async function sdkDefaultRegion(): Promise<string | undefined> {
  const client = new EC2Client({});
  try {
    const region = await client.config.region();
    return region || undefined;
  } catch {
    return undefined;
  } finally {
    client.destroy();
  }
}
