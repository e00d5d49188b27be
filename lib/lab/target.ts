/**
 * A deployed lab as the CLI sees it: its config (read back from the stack's LabConfig output,
 * so the CLI and the stack can never disagree) and each node's instance id and IP.
 */
import { parseLabConfig } from '../config/load.js';
import { OUTPUTS } from '../config/outputs.js';
import { planLab, type LabNode, type LabPlan } from '../config/plan.js';

export interface DeployedNode extends LabNode {
  readonly instanceId: string;
}

export interface LabTarget {
  readonly stackName: string;
  readonly plan: LabPlan;
  readonly controlPlanePublicIp: string;
  /** Every instance, control plane first. */
  readonly nodes: readonly DeployedNode[];
  readonly controlPlane: DeployedNode;
  /** The Kubernetes nodes (control plane and workers; no router, no test host). */
  readonly kubeNodes: readonly DeployedNode[];
  /** The S3 bucket `lab logs` moves files through; absent on stacks deployed before it existed. */
  readonly artifactsBucket?: string;
}

export class LabNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabNotFoundError';
  }
}

/** Builds the target from a stack's outputs (OutputKey -> OutputValue). */
export function labTargetFromOutputs(stackName: string, outputs: Readonly<Record<string, string>>): LabTarget {
  const need = (key: string): string => {
    const value = outputs[key];
    if (value === undefined || value === '') {
      throw new LabNotFoundError(
        `stack ${stackName} has no output ${key}; it was not deployed by this version of cilium-lab, or the deploy has not finished (run: npx cdk deploy)`,
      );
    }
    return value;
  };
  let configJson: unknown;
  try {
    configJson = JSON.parse(need(OUTPUTS.labConfig));
  } catch (error) {
    if (error instanceof LabNotFoundError) throw error;
    throw new LabNotFoundError(`stack ${stackName}: output ${OUTPUTS.labConfig} is not JSON; redeploy the lab`);
  }
  const plan = planLab(parseLabConfig(configJson));
  const nodes = plan.instances.map((node) => ({ ...node, instanceId: need(OUTPUTS.nodeOutput(node.name, 'InstanceId')) }));
  const controlPlane = nodes[0] as DeployedNode;
  const artifactsBucket = outputs[OUTPUTS.artifactsBucket];
  return {
    stackName,
    plan,
    controlPlanePublicIp: need(OUTPUTS.controlPlanePublicIp),
    nodes,
    controlPlane,
    kubeNodes: nodes.filter((n) => n.role === 'control-plane' || n.role === 'worker'),
    ...(artifactsBucket ? { artifactsBucket } : {}),
  };
}
