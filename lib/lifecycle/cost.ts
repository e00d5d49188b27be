/**
 * `lab cost`: what the configured lab costs per hour, for N hours, and until its expiry, from the
 * price table in ./prices.ts (no AWS call). Counted: every instance (On-Demand Linux), every
 * public IPv4 address (each instance has one: the control plane's is its Elastic IP), and each
 * instance's gp3 root volume. Not counted: data transfer, T-family CPU credits beyond the baseline
 * (the lab's T3 instances run in "unlimited" mode), the join secret (Secrets Manager, cents a month).
 */
import type { LabConfig } from '../config/schema.js';
import { planLab } from '../config/plan.js';
import { HOURS_PER_MONTH, PRICES, PRICES_AS_OF, PRICE_SOURCES, PUBLIC_IPV4_PER_HOUR } from './prices.js';

export class CostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CostError';
  }
}

export interface CostLine {
  readonly what: string;
  readonly quantity: number;
  /** USD per unit and hour. */
  readonly unitPerHour: number;
  readonly perHour: number;
}

export interface LabCost {
  readonly labName: string;
  readonly region: string;
  readonly lines: readonly CostLine[];
  /** USD per hour while the lab runs. */
  readonly perHour: number;
  /** USD per hour while stopped (`lab stop`): volumes and the Elastic IP. */
  readonly stoppedPerHour: number;
  readonly forHours?: { readonly hours: number; readonly cost: number };
  readonly untilExpiry?: { readonly expiresAt: string; readonly hours: number; readonly cost: number };
  readonly pricesAsOf: string;
  readonly sources: typeof PRICE_SOURCES;
}

const known = (names: Iterable<string>): string => [...names].sort().join(', ');

/** The hourly price of an instance type, or a CostError naming the config field. */
function instancePrice(region: string, instanceType: string, field: string): number {
  const price = PRICES[region]?.instances[instanceType];
  if (price === undefined) {
    throw new CostError(`${field}: no price for ${instanceType} in ${region} in lib/lifecycle/prices.ts (known: ${known(Object.keys(PRICES[region]?.instances ?? {}))}); add it from ${PRICE_SOURCES.instances}`);
  }
  return price;
}

export function labCost(config: LabConfig, options: { hours?: number; now: Date }): LabCost {
  const region = config.region;
  if (region === undefined) {
    throw new CostError(`region: lab cost needs the lab's region: pass -c region=..., or set AWS_REGION or a region in your AWS profile (prices are known for ${known(Object.keys(PRICES))})`);
  }
  const prices = PRICES[region];
  if (!prices) throw new CostError(`region: no prices for ${region} in lib/lifecycle/prices.ts (known: ${known(Object.keys(PRICES))})`);
  const plan = planLab(config);
  const kube = [plan.controlPlane, ...plan.workers];
  // Elastic IPs are billed while the lab is stopped too: the control plane's, and the router's (profile bgp).
  const elasticIps = 1 + (plan.router ? 1 : 0);
  const lines: CostLine[] = [];
  const add = (what: string, quantity: number, unitPerHour: number): void => {
    if (quantity > 0) lines.push({ what, quantity, unitPerHour, perHour: quantity * unitPerHour });
  };
  add(`${config.nodes.instanceType} (control plane and workers)`, kube.length, instancePrice(region, config.nodes.instanceType, 'nodes.instanceType'));
  if (plan.router) add(`${plan.router.instanceType} (router)`, 1, instancePrice(region, plan.router.instanceType, 'bgp.router.instanceType'));
  if (plan.testpc) add(`${plan.testpc.instanceType} (test host)`, 1, instancePrice(region, plan.testpc.instanceType, 'testpc.instanceType'));
  add(`public IPv4 address (${plan.router ? 'control plane and router Elastic IPs' : 'control plane Elastic IP'} and one per other instance)`, plan.instances.length, PUBLIC_IPV4_PER_HOUR);
  const volumeGb = plan.instances.length * config.nodes.rootVolumeGiB;
  add(`GB of gp3 (${plan.instances.length} root volumes of ${config.nodes.rootVolumeGiB} GB)`, volumeGb, prices.gp3PerGbMonth / HOURS_PER_MONTH);

  const perHour = lines.reduce((sum, line) => sum + line.perHour, 0);
  const stoppedPerHour = (volumeGb * prices.gp3PerGbMonth) / HOURS_PER_MONTH + elasticIps * PUBLIC_IPV4_PER_HOUR;
  const result: LabCost = { labName: config.labName, region, lines, perHour, stoppedPerHour, pricesAsOf: PRICES_AS_OF, sources: PRICE_SOURCES };
  const extra: { forHours?: LabCost['forHours']; untilExpiry?: LabCost['untilExpiry'] } = {};
  if (options.hours !== undefined) extra.forHours = { hours: options.hours, cost: perHour * options.hours };
  if (config.expiresAt !== undefined) {
    const hours = Math.max(0, (new Date(config.expiresAt).getTime() - options.now.getTime()) / 3_600_000);
    extra.untilExpiry = { expiresAt: config.expiresAt, hours, cost: perHour * hours };
  }
  return { ...result, ...extra };
}

const usd = (value: number, digits = 2): string => `$${value.toFixed(digits)}`;

export function formatLabCost(cost: LabCost): string {
  const lines = [`lab ${cost.labName} in ${cost.region}: ${usd(cost.perHour, 4)} per hour while running (On-Demand prices of ${cost.pricesAsOf})`];
  for (const line of cost.lines) lines.push(`  ${String(line.quantity).padStart(4)} x ${line.what}: ${usd(line.perHour, 4)}/h`);
  lines.push(`  per day: ${usd(cost.perHour * 24)}; while stopped (lab stop): ${usd(cost.stoppedPerHour, 4)}/h`);
  if (cost.forHours) lines.push(`  for ${cost.forHours.hours} h: ${usd(cost.forHours.cost)}`);
  if (cost.untilExpiry) {
    lines.push(
      cost.untilExpiry.hours > 0
        ? `  until it expires at ${cost.untilExpiry.expiresAt} (${cost.untilExpiry.hours.toFixed(1)} h): ${usd(cost.untilExpiry.cost)}`
        : `  its expiry ${cost.untilExpiry.expiresAt} has passed`,
    );
  }
  lines.push('  not counted: data transfer, T-family CPU credits above the baseline, the join secret.');
  lines.push(`  prices: ${cost.sources.instances}, ${cost.sources.gp3}, ${cost.sources.publicIpv4}`);
  return lines.join('\n');
}
