/**
 * `lab create`: from nothing to a checked lab in one command. The same commands a user would run
 * one by one, as timed phases of one report: deploy (cdk deploy with an expiry), up (preflight,
 * tune, cilium, wait), check (which fetches the kubeconfig itself). It prints how long the lab
 * took to go green, how to open the Hubble UI, when the lab expires and what it costs per hour,
 * and writes the JSON report into the lab's state directory. A failed phase keeps its own reason
 * (the node and what it said) and the message says how to collect the nodes' logs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REFUSAL_EXIT_CODE, WordedError } from '../../errors.js';
import { formatDuration } from '../../lifecycle/timing.js';
import { labCost } from '../../lifecycle/cost.js';
import type { CommandContext, LabCommand, OptionSpec } from '../cli.js';
import { kubeconfigPath, labStateDir } from '../state.js';
import { checkCommand } from './check.js';
import { deployCommand } from './deploy.js';
import { labRegion } from './shared.js';
import { upCommand } from './up.js';

/** The commands `create` runs, in order (tests hand in their own settings). */
export interface CreateParts {
  readonly deploy: LabCommand;
  readonly up: LabCommand;
  readonly check: LabCommand;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** Where the state directories are ($CILIUM_LAB_STATE_DIR). @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

export class CreateFailedError extends WordedError {
  constructor(
    message: string,
    readonly result: unknown,
    /** The failed part's exit status when it has its own (lab check stopped by SIGTERM: 143). */
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** ctx for one of the commands: its own options' defaults, then what the user gave create for them. */
function contextFor(ctx: CommandContext, command: LabCommand): CommandContext {
  const options: Record<string, string | boolean | undefined> = {};
  for (const [name, spec] of Object.entries(command.options ?? {})) options[name] = ctx.options[name] ?? spec.default;
  return { ...ctx, options };
}

/** The options of the parts, once each (create passes each on to the part that declares it). */
function partOptions(parts: readonly LabCommand[]): Record<string, OptionSpec> {
  const options: Record<string, OptionSpec> = {};
  for (const part of parts) for (const [name, spec] of Object.entries(part.options ?? {})) options[name] ??= { ...spec, description: `${spec.description} (${part.name})` };
  return options;
}

export function createCommand(parts: CreateParts = { deploy: deployCommand, up: upCommand(), check: checkCommand() }): LabCommand {
  const ordered = [parts.deploy, parts.up, parts.check];
  return {
    name: 'create',
    summary: 'deploy, up and check in one go: from nothing to a checked lab, with the time it took, the Hubble UI, the expiry and the cost',
    options: partOptions(ordered),
    async run(ctx) {
      const now = parts.now ?? (() => new Date());
      const started = now();
      const labName = ctx.config.labName;
      const results: Record<string, unknown> = {};
      // Every part's own input first (a bad --values or --mtu), before deploy creates anything.
      for (const part of ordered) part.validate?.(contextFor(ctx, part));
      let step: LabCommand = parts.deploy;
      try {
        for (const part of ordered) {
          step = part;
          results[part.name] = (await part.run(contextFor(ctx, part))).data;
        }
      } catch (error) {
        const message = (error as Error).message;
        const exitCode = (error as { exitCode?: unknown }).exitCode;
        // deploy refuses (2) only before cdk changes anything: its own checks, or a synth cdk refused.
        const refusedBeforeDeploy = step === parts.deploy && exitCode === REFUSAL_EXIT_CODE && error instanceof WordedError;
        const next = refusedBeforeDeploy
          ? 'nothing was deployed; fix the setting and run lab create again'
          : step === parts.deploy
            ? 'cdk deploy failed: its output above names each failing node and its last log lines (a rolled-back stack leaves no node to inspect); fix and run lab create again'
            : `the lab is deployed and keeps running until it expires: collect its nodes' logs with \`npm run lab -- logs -c labName=${labName}\`, delete it with \`npm run lab -- down -c labName=${labName} --yes\``;
        // What the failed part got done (lab check: every scenario's result) goes into the report too.
        const partial = (error as { result?: unknown }).result;
        // A refusal is 2 only before anything was deployed (create checks every part's input first,
        // deploy what needs the deployed lab); a signal keeps its 130 / 143; anything else is a failure.
        const keep = (refusedBeforeDeploy || exitCode === 130 || exitCode === 143) && error instanceof WordedError;
        throw new CreateFailedError(
          `lab create stopped at ${step.name}: ${message}\n\n${next}`,
          { ...results, ...(partial !== undefined ? { [step.name]: partial } : {}), failedAt: step.name },
          keep ? (exitCode as number) : 1,
        );
      }
      const greenAfterMs = now().getTime() - started.getTime();
      const deployed = results[parts.deploy.name] as { expiresAt?: string } | undefined;
      const expiresAt = deployed?.expiresAt ?? ctx.config.expiresAt;
      let costLine: string;
      let perHour: number | undefined;
      try {
        const region = await labRegion(ctx);
        perHour = labCost(region ? { ...ctx.config, region } : ctx.config, { now: now() }).perHour;
        costLine = `costs about $${perHour.toFixed(2)} per hour while running (npm run lab -- cost)`;
      } catch (error) {
        costLine = `cost: ${(error as Error).message}`;
      }
      const kubeconfig = kubeconfigPath(labName, parts.env);
      const summary = {
        labName,
        greenAfterMs,
        ...(expiresAt ? { expiresAt } : {}),
        ...(perHour !== undefined ? { costPerHour: perHour } : {}),
        kubeconfig,
        results,
      };
      const reportPath = join(labStateDir(labName, parts.env), 'create-report.json');
      mkdirSync(labStateDir(labName, parts.env), { recursive: true });
      writeFileSync(reportPath, `${JSON.stringify(ctx.reporter.report(true, { result: summary }), null, 2)}\n`);
      const text = [
        ctx.reporter.summary(),
        '',
        `Lab ${labName} is green after ${formatDuration(greenAfterMs)}: deployed, Cilium up, every check passed.`,
        `  kubectl:   export KUBECONFIG=${kubeconfig}`,
        `  Hubble UI: npm run lab -- hubble -c labName=${labName}, then open http://localhost:12000`,
        `  expires:   ${expiresAt ?? 'never (deployed without an expiry)'} (npm run lab -- extend --by 2h; npm run lab -- down --yes to delete it now)`,
        `  ${costLine}`,
        `  report:    ${reportPath}`,
      ].join('\n');
      return { text, data: { ...summary, reportPath } };
    },
  };
}
