/** `lab cost`: the price table against figures computed by hand; no AWS call. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../lib/lab/cli.js';
import { lifecycleCommands } from '../../lib/lab/commands/lifecycle.js';
import { loadLabConfig } from '../../lib/config/load.js';
import { labCost } from '../../lib/lifecycle/cost.js';
import { PRICES, PRICES_AS_OF, PRICE_SOURCES } from '../../lib/lifecycle/prices.js';
import type { RunReport } from '../../lib/lab/reporter.js';
import { LabCli } from './cli-harness.js';
import { FakeAccount } from './fake-account.js';

const NOW = new Date('2026-11-23T10:00:00Z');

describe('labCost (pure)', () => {
  it('prices the default lab in ap-northeast-2: 3 x t3.xlarge + 1 x t3.small + 4 public IPv4 + 4 x 30 GB gp3', () => {
    // Hand-computed from the Seoul prices: t3.xlarge $0.208/h, t3.small $0.026/h, public IPv4
    // $0.005/h, gp3 $0.0912 per GB-month over 730 h.
    const expected = 3 * 0.208 + 1 * 0.026 + 4 * 0.005 + (4 * 30 * 0.0912) / 730; // 0.684991780...
    const cost = labCost(loadLabConfig({ context: { region: 'ap-northeast-2' } }), { now: NOW });
    expect(cost.perHour).toBeCloseTo(expected, 12);
    expect(cost.perHour).toBeCloseTo(0.68499178, 8);
    expect(cost.lines.map((l) => [l.quantity, l.unitPerHour])).toEqual([
      [3, 0.208],
      [1, 0.026],
      [4, 0.005],
      [120, 0.0912 / 730],
    ]);
    // stopped: the volumes and the Elastic IP only
    expect(cost.stoppedPerHour).toBeCloseTo((120 * 0.0912) / 730 + 0.005, 12);
  });

  it('prices another shape in us-east-1, for N hours and until the expiry', () => {
    // 4 x m6i.large ($0.096) with no test host, 4 public IPv4, 4 x 50 GB gp3 at $0.08/GB-month
    const config = loadLabConfig({
      context: { region: 'us-east-1', 'workers.count': '3', 'nodes.instanceType': 'm6i.large', 'nodes.rootVolumeGiB': '50', 'testpc.enabled': 'false', expiresAt: '2026-11-23T16:30:00Z' },
    });
    const perHour = 4 * 0.096 + 4 * 0.005 + (4 * 50 * 0.08) / 730; // 0.425917808...
    const cost = labCost(config, { hours: 5, now: NOW });
    expect(cost.perHour).toBeCloseTo(perHour, 12);
    expect(cost.forHours).toEqual({ hours: 5, cost: expect.closeTo(5 * perHour, 12) as unknown as number });
    expect(cost.untilExpiry?.hours).toBeCloseTo(6.5, 12);
    expect(cost.untilExpiry?.cost).toBeCloseTo(6.5 * perHour, 12);
  });

  it('refuses an unknown region or instance type, naming the field', () => {
    expect(() => labCost(loadLabConfig({ context: {} }), { now: NOW })).toThrow(/^region: lab cost needs the lab's region/);
    expect(() => labCost(loadLabConfig({ context: { region: 'eu-west-1' } }), { now: NOW })).toThrow(/^region: no prices for eu-west-1 .*known: ap-northeast-2, us-east-1/);
    expect(() => labCost(loadLabConfig({ context: { region: 'us-east-1', 'nodes.instanceType': 'm9.large' } }), { now: NOW })).toThrow(/^nodes\.instanceType: no price for m9\.large in us-east-1/);
    expect(() => labCost(loadLabConfig({ context: { region: 'us-east-1', 'testpc.instanceType': 'c7i.large' } }), { now: NOW })).toThrow(/^testpc\.instanceType: no price for c7i\.large/);
  });

  it('keeps the table complete for the types the lab commonly uses, with its date and sources', () => {
    const types = ['t3', 't3a'].flatMap((f) => ['small', 'medium', 'large', 'xlarge', '2xlarge'].map((s) => `${f}.${s}`));
    types.push('m5.large', 'm5.xlarge', 'm6i.large', 'm6i.xlarge', 'c5.large', 'c5.xlarge', 'c6i.large', 'c6i.xlarge');
    types.push('t4g.small', 't4g.medium', 't4g.large', 't4g.xlarge', 'm7g.large', 'm7g.xlarge');
    for (const region of ['us-east-1', 'ap-northeast-2']) {
      expect(Object.keys(PRICES[region]?.instances ?? {}).sort()).toEqual([...types].sort());
      // within a family, a size up doubles the price
      const prices = PRICES[region]?.instances ?? {};
      expect(prices['t3.2xlarge']).toBeCloseTo(2 * (prices['t3.xlarge'] ?? 0), 10);
      expect(prices['m7g.xlarge']).toBeCloseTo(2 * (prices['m7g.large'] ?? 0), 10);
    }
    expect(PRICES_AS_OF).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(Object.values(PRICE_SOURCES).every((url) => url.startsWith('https://aws.amazon.com/'))).toBe(true);
  });
});

describe('lab cost', () => {
  let account: FakeAccount;
  let cli: LabCli;
  beforeEach(async () => {
    account = await FakeAccount.start();
    cli = new LabCli(account, { now: () => NOW });
  });
  afterEach(async () => {
    await account.close();
  });

  it('prints the hourly cost, per day, for --hours and until the expiry, without any AWS call', async () => {
    const run = await cli.run(['cost', '--hours', '3', '-c', 'expiresAt=2026-11-23T13:00:00Z', '--json']);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.result) as RunReport & { result: { perHour: number; forHours: { cost: number }; untilExpiry: { hours: number } } };
    expect(report.result.perHour).toBeCloseTo(0.68499178, 8);
    expect(report.result.forHours.cost).toBeCloseTo(3 * 0.68499178, 7);
    expect(report.result.untilExpiry.hours).toBe(3);
    expect(report.phases.map((p) => p.name)).toEqual(['price the lab']);
    expect(cli.cloudsCreated).toBe(0);
    expect(account.totalCalls()).toBe(0);

    const text = await cli.run(['cost', '--hours', '3', '-c', 'expiresAt=2026-11-23T13:00:00Z']);
    expect(text.result).toContain('lab cilium-lab in ap-northeast-2: $0.6850 per hour while running');
    expect(text.result).toContain('per day: $16.44');
    expect(text.result).toContain('for 3 h: $2.05');
    expect(text.result).toContain('until it expires at 2026-11-23T13:00:00Z (3.0 h): $2.05');
    expect(text.result).toContain(PRICE_SOURCES.instances);
  });

  it('exits 2 naming the field it cannot price', async () => {
    const run = await cli.run(['cost', '-c', 'nodes.instanceType=r6i.large']);
    expect(run.code).toBe(2);
    expect(run.result).toContain('nodes.instanceType: no price for r6i.large in ap-northeast-2');
    const hours = await cli.run(['cost', '--hours', 'lots']);
    expect(hours.code).toBe(2);
    expect(hours.result).toContain('--hours: "lots" is not a positive number of hours');
  });
});

describe('lab cost finds the region as every command does', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const key of ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE']) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  });
  const run = async (): Promise<{ code: number; result: string }> => {
    const results: string[] = [];
    const code = await runCli(['cost'], { commands: lifecycleCommands({ now: () => NOW }), createServices: () => ({}) as never, out: () => ({ info: () => undefined, result: (t) => results.push(t) }) });
    return { code, result: results.join('\n') };
  };
  const isolate = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'aws-config-'));
    process.env['AWS_CONFIG_FILE'] = join(dir, 'config');
    process.env['AWS_SHARED_CREDENTIALS_FILE'] = join(dir, 'credentials');
    delete process.env['AWS_REGION'];
    delete process.env['AWS_DEFAULT_REGION'];
    delete process.env['AWS_PROFILE'];
    return dir;
  };

  it('from AWS_REGION', async () => {
    isolate();
    process.env['AWS_REGION'] = 'us-east-1';
    const result = await run();
    expect(result.code).toBe(0);
    expect(result.result).toContain('lab cilium-lab in us-east-1:');
  });

  it("from the AWS profile's region (AWS_PROFILE in AWS_CONFIG_FILE)", async () => {
    const dir = isolate();
    writeFileSync(join(dir, 'config'), '[profile study]\nregion = ap-northeast-2\n');
    process.env['AWS_PROFILE'] = 'study';
    const result = await run();
    expect(result.code).toBe(0);
    expect(result.result).toContain('lab cilium-lab in ap-northeast-2:');
  });

  it('says where to set one when there is none', async () => {
    isolate();
    const result = await run();
    expect(result.code).toBe(2);
    expect(result.result).toContain('region: lab cost needs the lab\'s region: pass -c region=..., or set AWS_REGION or a region in your AWS profile');
  });
});
