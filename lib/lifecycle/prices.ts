/**
 * The price table `lab cost` works from: On-Demand Linux (shared tenancy) hourly prices of the
 * instance types a lab commonly uses, gp3 storage per GB-month and public IPv4 per hour, in the
 * regions the study uses. USD, without tax, no Savings Plans or free tier.
 *
 * Kept in the repo on purpose: `lab cost` needs no AWS call (the Price List API is only in
 * us-east-1/ap-south-1 and answers with megabytes of JSON). Prices change rarely but they do
 * change: check them against the sources below and update PRICES_AS_OF with the table.
 */

/** The date this table was written down (check the sources before relying on it after a while). */
export const PRICES_AS_OF = '2026-11-23';

export const PRICE_SOURCES = {
  instances: 'https://aws.amazon.com/ec2/pricing/on-demand/',
  gp3: 'https://aws.amazon.com/ebs/pricing/',
  publicIpv4: 'https://aws.amazon.com/vpc/pricing/',
} as const;

/** AWS prices EBS per GB-month; a month is 730 hours in AWS's own calculator. */
export const HOURS_PER_MONTH = 730;

/** Every public IPv4 address, in use or idle, Elastic IP or auto-assigned, since 2024-02-01. */
export const PUBLIC_IPV4_PER_HOUR = 0.005;

export interface RegionPrices {
  /** instance type -> USD per hour (On-Demand, Linux). */
  readonly instances: Readonly<Record<string, number>>;
  /** gp3 storage, USD per GB-month (the included 3,000 IOPS and 125 MB/s cost nothing extra). */
  readonly gp3PerGbMonth: number;
}

export const PRICES: Readonly<Record<string, RegionPrices>> = {
  'us-east-1': {
    instances: {
      't3.small': 0.0208,
      't3.medium': 0.0416,
      't3.large': 0.0832,
      't3.xlarge': 0.1664,
      't3.2xlarge': 0.3328,
      't3a.small': 0.0188,
      't3a.medium': 0.0376,
      't3a.large': 0.0752,
      't3a.xlarge': 0.1504,
      't3a.2xlarge': 0.3008,
      'm5.large': 0.096,
      'm5.xlarge': 0.192,
      'm6i.large': 0.096,
      'm6i.xlarge': 0.192,
      'c5.large': 0.085,
      'c5.xlarge': 0.17,
      'c6i.large': 0.085,
      'c6i.xlarge': 0.17,
      't4g.small': 0.0168,
      't4g.medium': 0.0336,
      't4g.large': 0.0672,
      't4g.xlarge': 0.1344,
      'm7g.large': 0.0816,
      'm7g.xlarge': 0.1632,
    },
    gp3PerGbMonth: 0.08,
  },
  'ap-northeast-2': {
    instances: {
      't3.small': 0.026,
      't3.medium': 0.052,
      't3.large': 0.104,
      't3.xlarge': 0.208,
      't3.2xlarge': 0.416,
      't3a.small': 0.0234,
      't3a.medium': 0.0468,
      't3a.large': 0.0936,
      't3a.xlarge': 0.1872,
      't3a.2xlarge': 0.3744,
      'm5.large': 0.118,
      'm5.xlarge': 0.236,
      'm6i.large': 0.118,
      'm6i.xlarge': 0.236,
      'c5.large': 0.096,
      'c5.xlarge': 0.192,
      'c6i.large': 0.096,
      'c6i.xlarge': 0.192,
      't4g.small': 0.0208,
      't4g.medium': 0.0416,
      't4g.large': 0.0832,
      't4g.xlarge': 0.1664,
      'm7g.large': 0.0998,
      'm7g.xlarge': 0.1996,
    },
    gp3PerGbMonth: 0.0912,
  },
};
