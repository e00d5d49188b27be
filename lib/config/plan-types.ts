/**
 * The shapes of the lab plan (lib/config/plan.ts builds them): the instances with their places and
 * routes, and the plan itself. Types only, apart from plan.ts so lib/config/profiles.ts can name
 * them without an import cycle (plan.ts asks the profile where instances go).
 */
import type { LabConfig } from './schema.js';

export type NodeRole = 'control-plane' | 'worker' | 'router' | 'testpc';

/** A static route an instance sets up at boot and keeps across reboots (profile bgp: the pod range via the router). */
export interface LabRoute {
  readonly to: string;
  readonly via: string;
}

export interface LabNode {
  /** Kubernetes node name, hostname and EC2 Name tag. */
  readonly name: string;
  readonly role: NodeRole;
  readonly privateIp: string;
  readonly instanceType: string;
  /** Which of the two public subnets the node sits in. */
  readonly subnet: 'nodes' | 'test';
  /** The config field its address comes from (named in address refusals). */
  readonly ipField: string;
  /** Routes of its own, set at boot (none: the subnet's default route only). */
  readonly routes: readonly LabRoute[];
  /** Its own Ubuntu release, where it differs from the lab's ubuntu.release (the router's: the FRR the tests run). */
  readonly ubuntuRelease?: string;
  /** A second network interface in the other subnet (the router's). */
  readonly secondInterface?: { readonly subnet: 'nodes' | 'test'; readonly privateIp: string; readonly ipField: string };
}

export interface LabPlan {
  readonly config: LabConfig;
  /** CloudFormation stack name (= labName). */
  readonly stackName: string;
  /** The kubectl context name the study uses. */
  readonly kubeContext: 'CiliumLab';
  readonly controlPlane: LabNode;
  readonly workers: readonly LabNode[];
  readonly testpc: LabNode | undefined;
  /** The router between the two subnets (profile bgp), else undefined. */
  readonly router: LabNode | undefined;
  /** Every instance of the lab: control plane, workers, the router, then the test host. */
  readonly instances: readonly LabNode[];
  readonly amiParameterName: string;
  readonly kubernetes: {
    readonly version: string;
    readonly minor: string;
    /** Debian package version on pkgs.k8s.io, e.g. 1.30.14-1.1. */
    readonly packageVersion: string;
    readonly kubeadmApi: 'v1beta3' | 'v1beta4';
  };
  readonly tools: {
    readonly helmVersion: string;
    readonly ciliumCliVersion: string;
    readonly hubbleCliVersion: string;
  };
}

