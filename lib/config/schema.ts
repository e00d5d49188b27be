/**
 * LabConfig: the one validated description of a lab. Its defaults ARE the study lab
 * (KANS/PKOS Cilium week: ../shared/design/FACTS.md). Field checks live here; checks that
 * relate several fields live in ./rules.ts and run as part of the same parse.
 */
import { z } from 'zod';
import { parseCidr, parseIpv4 } from './cidr.js';
import { DEFAULT_TTL, MAX_TTL_DAYS, ttlSeconds } from './expiry.js';
import { DEFAULT_PROFILE, PROFILE_NAMES } from './profile-names.js';

/** cdk context values arrive as strings: accept "3" where a number is meant. */
const int = (min: number, max: number, fix: string) =>
  z.preprocess(
    (v) => (typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v),
    z
      .number({ error: `must be a whole number from ${min} to ${max}` })
      .int({ error: `must be a whole number from ${min} to ${max}` })
      .min(min, { error: `must be at least ${min}; ${fix}` })
      .max(max, { error: `must be at most ${max}; ${fix}` }),
  );

/** cdk context values arrive as strings: accept "true"/"false" where a boolean is meant. */
const bool = () =>
  z.preprocess(
    (v) => (v === 'true' ? true : v === 'false' ? false : v),
    z.boolean({ error: 'must be true or false' }),
  );

const cidr = () =>
  z.string().superRefine((value, ctx) => {
    const parsed = parseCidr(value);
    if (typeof parsed === 'string') {
      ctx.addIssue({ code: 'custom', message: parsed });
    }
  });

const ipv4 = () =>
  z.string().refine((value) => parseIpv4(value) !== undefined, {
    error: (issue) => `"${String(issue.input)}" is not an IPv4 address (write it as a.b.c.d)`,
  });

/** Kubernetes node names are DNS labels; they also become EC2 Name tags and hostnames. */
const hostname = () =>
  z.string().regex(/^[a-z]([a-z0-9-]{0,40}[a-z0-9])?$/, {
    error: 'must be a DNS label: lower-case letters, digits and "-", starting with a letter',
  });

const instanceType = () =>
  z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, { error: 'must be an EC2 instance type such as t3.xlarge' });

/** A BGP AS number (RFC 6793: 4 bytes; 0, 23456 AS_TRANS and 65535/4294967295 are reserved, refused in rules.ts). */
const asn = () =>
  z.preprocess(
    (v) => (typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v),
    z
      .number({ error: 'must be an AS number from 1 to 4294967294' })
      .int({ error: 'must be a whole AS number' })
      .min(1, { error: 'must be an AS number from 1 to 4294967294 (0 is reserved)' })
      .max(4294967294, { error: 'must be an AS number from 1 to 4294967294' }),
  );

const semver = (example: string) =>
  z.string().regex(/^\d+\.\d+\.\d+$/, { error: `must be a full major.minor.patch version such as ${example}` });

/** Every field on its own (types, ranges, formats): the cross-field rules run only once these hold. */
export const LabConfigFieldsSchema = z
  .strictObject({
    /** Names the stack, the tags and the kubectl context. @default "cilium-lab" */
    labName: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,22}[a-z0-9]$/, {
        error: 'must be 2-24 characters of lower-case letters, digits and "-", starting with a letter (it names the CloudFormation stack)',
      })
      .default('cilium-lab'),
    /** Who the lab belongs to; tagged on every resource. @default "study-group" */
    owner: z
      .string()
      .regex(/^[\w.@+=:/ -]{1,128}$/, { error: 'must be 1-128 characters usable in an AWS tag value' })
      .default('study-group'),
    /**
     * When the lab expires (ISO 8601 UTC, e.g. 2026-11-23T22:00:00Z). An input, never
     * `Date.now()` at synth, so synth stays deterministic. @default undefined (tagged "unset")
     */
    expiresAt: z.iso.datetime({ error: 'must be an ISO 8601 UTC time such as 2026-11-23T22:00:00Z' }).optional(),
    /**
     * How long a lab lives when no expiresAt is given (a plain `cdk deploy`): the stack's expiry
     * schedule is set at deploy time to that time plus this (lib/infra/lab-expiry.ts, the expiry
     * clock), so the template holds the TTL, not a date. `none`: the lab never expires (say so on
     * purpose). expiresAt, when given (`lab deploy` sets it), wins. @default "4h"
     */
    ttl: z
      .string()
      .refine((text) => text === 'none' || ttlSeconds(text) !== undefined, {
        error: `must be a lifetime of at most ${MAX_TTL_DAYS} days such as 90m, 4h, 1d or 1h30m, or none for a lab that never expires`,
      })
      .default(DEFAULT_TTL),
    /** AWS region; when unset the stack is environment-agnostic and synthesises offline. @default undefined */
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: 'must be an AWS region name such as ap-northeast-2' })
      .optional(),
    network: z
      .strictObject({
        /** @default "192.168.0.0/16" */
        vpcCidr: cidr().default('192.168.0.0/16'),
        /** Public subnet of the Kubernetes nodes (first AZ). @default "192.168.10.0/24" */
        nodeSubnetCidr: cidr().default('192.168.10.0/24'),
        /** Public subnet of the test host (second AZ). @default "192.168.20.0/24" */
        testSubnetCidr: cidr().default('192.168.20.0/24'),
      })
      .prefault({}),
    controlPlane: z
      .strictObject({
        /** @default "k8s-s" */
        name: hostname().default('k8s-s'),
        /** @default "192.168.10.10" */
        ip: ipv4().default('192.168.10.10'),
      })
      .prefault({}),
    workers: z
      .strictObject({
        /** @default 2 */
        count: int(1, 50, 'the lab takes 1 to 50 workers').default(2),
        /** Workers are named prefix1..prefixN. @default "k8s-w" */
        namePrefix: hostname().default('k8s-w'),
        /** Worker i (from 1) gets firstIp + i - 1. @default "192.168.10.101" */
        firstIp: ipv4().default('192.168.10.101'),
      })
      .prefault({}),
    nodes: z
      .strictObject({
        /** Instance type of the control plane and the workers. @default "t3.xlarge" */
        instanceType: instanceType().default('t3.xlarge'),
        /** Encrypted gp3 root volume size. @default 30 */
        rootVolumeGiB: int(20, 500, 'images and logs need at least 20 GiB').default(30),
      })
      .prefault({}),
    testpc: z
      .strictObject({
        /** A host outside the cluster for NodePort tests. @default true */
        enabled: bool().default(true),
        /** @default "testpc" */
        name: hostname().default('testpc'),
        /** @default "192.168.20.100" */
        ip: ipv4().default('192.168.20.100'),
        /** @default "t3.small" */
        instanceType: instanceType().default('t3.small'),
      })
      .prefault({}),
    ubuntu: z
      .strictObject({
        /** @default "22.04" */
        release: z.string().default('22.04'),
        /** @default "amd64" */
        arch: z.enum(['amd64', 'arm64'], { error: 'must be amd64 or arm64' }).default('amd64'),
      })
      .prefault({}),
    kubernetes: z
      .strictObject({
        /** @default "1.30.14" */
        version: semver('1.30.14').default('1.30.14'),
        /** @default "172.16.0.0/16" */
        podCidr: cidr().default('172.16.0.0/16'),
        /** @default "10.10.0.0/16" */
        serviceCidr: cidr().default('10.10.0.0/16'),
        /** Lifetime of the per-deploy worker join token. @default 120 */
        joinTokenTtlMinutes: int(10, 1440, 'workers join within the bootstrap timeout').default(120),
        /**
         * The kubelet's pod limit on every node (its --max-pods; unset: the kubelet's 110). A
         * running lab takes a new one with `lab max-pods`; `lab density` shows where it bites.
         */
        maxPods: int(10, 1000, "the kubelet's pod limit per node (its default is 110)").optional(),
      })
      .prefault({}),
    /**
     * The study profile (lib/config/profiles.ts): `study` (the week-8 lab) or `cluster-pool`
     * (Cilium's cluster-pool IPAM). @default "study"
     */
    profile: z.enum(PROFILE_NAMES, { error: `must be a profile of \`npm run lab -- profiles\`: ${PROFILE_NAMES.join(', ')}` }).default(DEFAULT_PROFILE),
    /** profile=cluster-pool only: the pools Cilium's operator allocates node blocks from, and the block size. */
    clusterPool: z
      .strictObject({
        /** A list (in a file) or comma-separated (`-c clusterPool.cidrs=10.200.0.0/16,10.201.0.0/16`). @default ["10.200.0.0/16"] */
        cidrs: z
          .preprocess(
            (value) => (typeof value === 'string' ? value.split(',').map((part) => part.trim()).filter((part) => part !== '') : value),
            z.array(cidr()).min(1, { error: 'needs at least one pool CIDR' }),
          )
          .default(['10.200.0.0/16']),
        /** The block each node gets (/24: 254 pods). @default 24 */
        maskSize: int(16, 28, 'each node gets one /maskSize block of the pools').default(24),
      })
      .prefault({}),
    /**
     * profile=bgp only: the router (FRR) between the two subnets that peers with Cilium's BGP
     * control plane, the Kubernetes nodes placed in the second subnet, and what the cluster
     * advertises (the study: AS 65000 for the router at 192.168.10.200 and 192.168.20.200).
     */
    bgp: z
      .strictObject({
        /** The router's AS. @default 65000 */
        routerAsn: asn().default(65000),
        /** The AS of every Cilium node (CiliumBGPClusterConfig localASN). @default 65001 */
        clusterAsn: asn().default(65001),
        router: z
          .strictObject({
            /** Hostname and EC2 Name tag. @default "router" */
            name: hostname().default('router'),
            /** Its address in network.nodeSubnetCidr (first ENI). @default "192.168.10.200" */
            nodeSubnetIp: ipv4().default('192.168.10.200'),
            /** Its address in network.testSubnetCidr (second ENI). @default "192.168.20.200" */
            testSubnetIp: ipv4().default('192.168.20.200'),
            /** @default "t3.small" */
            instanceType: instanceType().default('t3.small'),
          })
          .prefault({}),
        /** How many workers (the last ones) sit in network.testSubnetCidr, behind the router. @default 1 */
        testSubnetWorkers: int(1, 50, 'at least one worker sits behind the router (the control plane always stays in the node subnet)').default(1),
        /** The first of them gets this address, the next ones the following addresses. @default "192.168.20.101" */
        testSubnetWorkerFirstIp: ipv4().default('192.168.20.101'),
        /** LoadBalancer IPs (Cilium LB IPAM pool) for Services labelled advertise=bgp. @default "10.20.0.0/24" */
        lbPoolCidr: cidr().default('10.20.0.0/24'),
        /**
         * What the router accepts from the cluster (its import filter) and what the nodes and
         * testpc route through it. @default kubernetes.podCidr and bgp.lbPoolCidr
         */
        advertisedRanges: z
          .preprocess(
            (value) => (typeof value === 'string' ? value.split(',').map((part) => part.trim()).filter((part) => part !== '') : value),
            z.array(cidr()).min(1, { error: 'needs at least one range' }),
          )
          .optional(),
        /** CiliumBGPPeerConfig timers (the study's: hold 9 s, keepalive 3 s, connect retry 5 s). */
        holdTimeSeconds: int(3, 65535, 'BGP hold time in seconds (RFC 4271: 0 or at least 3)').default(9),
        /** @default 3 */
        keepAliveTimeSeconds: int(1, 21845, 'a third of the hold time is usual').default(3),
        /** @default 5 */
        connectRetryTimeSeconds: int(1, 3600, 'seconds between connection attempts').default(5),
      })
      .prefault({}),
    cilium: z
      .strictObject({
        /** Chart version installed after deploy (`lab cilium`). @default "1.16.3" */
        version: semver('1.16.3').default('1.16.3'),
      })
      .prefault({}),
    access: z
      .strictObject({
        /** Where the operator connects from (API 6443, and SSH when keyPairName is set). @default undefined (no inbound access; Session Manager only) */
        operatorCidr: cidr().optional(),
        /** Must be true to accept an operatorCidr of 0.0.0.0/0. @default false */
        allowWorldAccess: bool().default(false),
        /** Existing EC2 key pair for SSH. @default undefined (no SSH; use Session Manager) */
        keyPairName: z
          .string()
          .regex(/^[\x20-\x7e]{1,255}$/, { error: 'must be the name of an existing EC2 key pair (printable ASCII)' })
          .optional(),
      })
      .prefault({}),
    bootstrap: z
      .strictObject({
        /**
         * How long `cdk deploy` waits for every node to join before it fails. At least 15: the
         * control plane installs packages, the AWS CLI snap and three pinned CLIs, pulls the
         * control-plane images and runs `kubeadm init` (6-10 minutes when every mirror is quick),
         * and the node stops its own work 2 minutes earlier to report why it failed. @default 30
         */
        timeoutMinutes: int(15, 60, 'a control plane needs 6-10 minutes when every mirror answers quickly, and stops 2 minutes early to report a failure; CloudFormation waits at most this long').default(30),
      })
      .prefault({}),
  });

/** The parsed lab configuration. Every field is set (defaults applied); rules.ts's LabConfigSchema also holds the rules between fields. */
export type LabConfig = z.output<typeof LabConfigFieldsSchema>;
/** What a user may write: every field optional. */
export type LabConfigInput = z.input<typeof LabConfigFieldsSchema>;
