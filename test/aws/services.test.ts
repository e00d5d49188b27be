/**
 * The real LabServices (lib/aws/services.ts, lib/aws/ec2-facts.ts): SDK clients for
 * CloudFormation and EC2 talking HTTP to FakeQueryServer, so the form encoding, the XML parsing
 * and the error codes are the SDK's own.
 */
import { createAwsServices } from '../../lib/aws/services.js';
import { LabNotFoundError } from '../../lib/lab/target.js';
import type { LabServices } from '../../lib/lab/services.js';
import { CFN_QUERY, EC2_QUERY, FakeQueryServer, QueryFault, listParam, type FakeQueryOptions } from './fake-query-server.js';

const fakes: FakeQueryServer[] = [];

async function fake(options: FakeQueryOptions): Promise<FakeQueryServer> {
  const server = await FakeQueryServer.start(options);
  fakes.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

function services(endpoints: { ec2?: string; cloudformation?: string }): LabServices {
  return createAwsServices(
    { region: 'eu-west-1' },
    { endpoints, credentials: { accessKeyId: 'AKIAFAKEFAKEFAKEFAKE', secretAccessKey: 'fake-secret' }, maxAttempts: 1 },
  );
}

const stack = (status: string, outputs: Record<string, string>) => ({
  Stacks: [
    {
      StackId: 'arn:aws:cloudformation:eu-west-1:000000000000:stack/cilium-lab/0000',
      StackName: 'cilium-lab',
      CreationTime: '2026-11-23T09:00:00.000Z',
      StackStatus: status,
      Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue, Description: 'x' })),
    },
  ],
});

describe('stackOutputs (CloudFormation DescribeStacks)', () => {
  it('returns OutputKey -> OutputValue of a deployed stack', async () => {
    // Given a stack with two outputs
    const cfn = await fake({ ...CFN_QUERY, handlers: { DescribeStacks: () => stack('CREATE_COMPLETE', { ControlPlanePublicIp: '203.0.113.10', NodeK8sSInstanceId: 'i-0123' }) } });
    // When its outputs are read
    const outputs = await services({ cloudformation: cfn.endpoint }).stackOutputs('cilium-lab');
    // Then both come back, and the SDK asked for that stack by name
    expect(outputs).toEqual({ ControlPlanePublicIp: '203.0.113.10', NodeK8sSInstanceId: 'i-0123' });
    expect(cfn.callsTo('DescribeStacks')[0]?.params).toMatchObject({ Action: 'DescribeStacks', Version: '2010-05-15', StackName: 'cilium-lab' });
  });

  it('maps "does not exist" to LabNotFoundError telling to deploy', async () => {
    // Given no such stack (CloudFormation answers ValidationError)
    const cfn = await fake({ ...CFN_QUERY, handlers: { DescribeStacks: (p) => { throw new QueryFault('ValidationError', `Stack with id ${String(p['StackName'])} does not exist`); } } });
    // When its outputs are read
    const read = services({ cloudformation: cfn.endpoint }).stackOutputs('kans-w3');
    // Then the error says there is no lab and how to make one
    await expect(read).rejects.toThrow(LabNotFoundError);
    await expect(read).rejects.toThrow(/no stack kans-w3 in eu-west-1: deploy with npx cdk deploy/);
  });

  it('refuses a stack that rolled back, naming its status', async () => {
    const cfn = await fake({ ...CFN_QUERY, handlers: { DescribeStacks: () => stack('ROLLBACK_COMPLETE', {}) } });
    await expect(services({ cloudformation: cfn.endpoint }).stackOutputs('cilium-lab')).rejects.toThrow(/cilium-lab in eu-west-1 is ROLLBACK_COMPLETE/);
  });

  it('tells a stack whose deletion stopped (DELETE_FAILED, e.g. the expiry hit an ENI outside it) to finish with lab down', async () => {
    const cfn = await fake({ ...CFN_QUERY, handlers: { DescribeStacks: () => stack('DELETE_FAILED', {}) } });
    await expect(services({ cloudformation: cfn.endpoint }).stackOutputs('cilium-lab')).rejects.toThrow(
      /cilium-lab in eu-west-1 is DELETE_FAILED, so there is no lab to work on: its deletion stopped on something outside the stack: npm run lab -- down -c labName=cilium-lab --yes finishes it/,
    );
  });

  it('passes other errors through unchanged', async () => {
    const cfn = await fake({ ...CFN_QUERY, handlers: { DescribeStacks: () => { throw new QueryFault('AccessDenied', 'User is not authorized to perform: cloudformation:DescribeStacks', 403); } } });
    const read = services({ cloudformation: cfn.endpoint }).stackOutputs('cilium-lab');
    await expect(read).rejects.toThrow(/not authorized/);
    await expect(read).rejects.not.toThrow(LabNotFoundError);
  });
});

describe('Ec2FactsAdapter (EC2 query protocol)', () => {
  it('reads hypervisor, bare metal and ENA support of instance types', async () => {
    // Given EC2 knows a Nitro type and a Xen type
    const ec2 = await fake({
      ...EC2_QUERY,
      handlers: {
        DescribeInstanceTypes: (p) => ({
          instanceTypeSet: listParam(p, 'InstanceType').map((t) => ({
            instanceType: t,
            hypervisor: t.startsWith('t2') ? 'xen' : 'nitro',
            bareMetal: false,
            networkInfo: { enaSupport: t.startsWith('t2') ? 'unsupported' : 'required' },
          })),
        }),
      },
    });
    // When both are described
    const types = await services({ ec2: ec2.endpoint }).ec2.instanceTypes(['t3.xlarge', 't2.large']);
    // Then each comes back with its facts, from one call listing both types
    expect(types).toEqual([
      { instanceType: 't3.xlarge', hypervisor: 'nitro', bareMetal: false, enaSupport: 'required' },
      { instanceType: 't2.large', hypervisor: 'xen', bareMetal: false, enaSupport: 'unsupported' },
    ]);
    expect(ec2.callsTo('DescribeInstanceTypes')[0]?.params).toMatchObject({ 'InstanceType.1': 't3.xlarge', 'InstanceType.2': 't2.large', Version: '2016-11-15' });
  });

  it('leaves out an instance EC2 does not know instead of failing the whole request', async () => {
    // Given EC2 refuses any request that names an unknown instance
    const known = new Set(['i-01', 'i-02']);
    const ec2 = await fake({
      ...EC2_QUERY,
      handlers: {
        DescribeInstances: (p) => {
          const ids = listParam(p, 'InstanceId');
          const unknown = ids.filter((id) => !known.has(id));
          if (unknown.length > 0) throw new QueryFault('InvalidInstanceID.NotFound', `The instance ID '${unknown.join(',')}' does not exist`);
          return { reservationSet: [{ reservationId: 'r-1', instancesSet: ids.map((id) => ({ instanceId: id, imageId: 'ami-1', instanceType: 't3.xlarge', instanceState: { code: 16, name: 'running' }, privateIpAddress: '192.168.10.10' })) }] };
        },
      },
    });
    // When three instances are described, one unknown
    const instances = await services({ ec2: ec2.endpoint }).ec2.instances(['i-01', 'i-gone', 'i-02']);
    // Then the two known ones come back with their AMI and state
    expect(instances).toEqual([
      { instanceId: 'i-01', imageId: 'ami-1', instanceType: 't3.xlarge', state: 'running', privateIp: '192.168.10.10' },
      { instanceId: 'i-02', imageId: 'ami-1', instanceType: 't3.xlarge', state: 'running', privateIp: '192.168.10.10' },
    ]);
    expect(ec2.callsTo('DescribeInstances')[0]?.errorCode).toBe('InvalidInstanceID.NotFound');
  });

  it('reads EnaSupport of AMIs and drops a deregistered one', async () => {
    const ec2 = await fake({
      ...EC2_QUERY,
      handlers: {
        DescribeImages: (p) => {
          const ids = listParam(p, 'ImageId');
          if (ids.includes('ami-gone')) throw new QueryFault('InvalidAMIID.NotFound', "The image id '[ami-gone]' does not exist");
          return { imagesSet: ids.map((id) => ({ imageId: id, name: 'ubuntu', enaSupport: id === 'ami-ena' })) };
        },
      },
    });
    const images = await services({ ec2: ec2.endpoint }).ec2.images(['ami-ena', 'ami-noena', 'ami-gone']);
    expect(images).toEqual([
      { imageId: 'ami-ena', name: 'ubuntu', enaSupport: true },
      { imageId: 'ami-noena', name: 'ubuntu', enaSupport: false },
    ]);
  });

  it('passes an error that is not about an unknown id through', async () => {
    const ec2 = await fake({ ...EC2_QUERY, handlers: { DescribeInstanceTypes: () => { throw new QueryFault('UnauthorizedOperation', 'You are not authorized to perform this operation.', 403); } } });
    await expect(services({ ec2: ec2.endpoint }).ec2.instanceTypes(['t3.xlarge'])).rejects.toThrow(/not authorized/);
  });
});
