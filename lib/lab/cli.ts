/**
 * The `lab` CLI core: a registry of commands, argument parsing, config loading (the same
 * LabConfig loader as the CDK app: `-c dotted.key=value` and `-c config=FILE`), lazy AWS
 * services, per-phase progress and `--json` output. Commands live in lib/lab/commands/, one per
 * file; scripts/lab.ts wires in the real AWS services.
 */
import { parseArgs } from 'node:util';
import { LabConfigError, loadLabConfig } from '../config/load.js';
import { RefusalError, WordedError } from '../errors.js';
import type { LabConfig } from '../config/schema.js';
import { PhaseReporter, consoleOutput, type Output, type RunReport } from './reporter.js';
import { LabNotFoundError, labTargetFromOutputs, type LabTarget } from './target.js';
import type { LabServices } from './services.js';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly description: string;
  readonly default?: string | boolean;
}

export interface CommandContext {
  readonly config: LabConfig;
  /** The `-c key=value` flags as given (passed on to cdk by `lab deploy`). */
  readonly contextFlags: readonly string[];
  readonly options: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
  readonly reporter: PhaseReporter;
  readonly out: Output;
  readonly json: boolean;
  /** AWS adapters, created (and their SDK modules loaded) on first use, so --help and bad input never reach AWS. */
  services(): Promise<LabServices>;
  /** The deployed lab, found from its stack outputs (read once). */
  target(): Promise<LabTarget>;
}

export interface LabCommand {
  readonly name: string;
  readonly summary: string;
  readonly options?: Readonly<Record<string, OptionSpec>>;
  /** Runs the command; the value is printed (text, or JSON with --json). */
  run(ctx: CommandContext): Promise<{ text: string; data?: unknown }>;
  /** Checks the command's own input offline and throws a refusal (`lab create` asks every part before deploying). */
  validate?(ctx: CommandContext): void;
}

/** A command's bad input (an option, a -c flag): refused with exit 2 (RefusalError), before any AWS call. */
export class UsageError extends RefusalError {}

const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec & { short?: string; multiple?: boolean }>> = {
  context: { type: 'string', short: 'c', multiple: true, description: 'a lab setting, key=value (same keys as cdk -c), or config=FILE' },
  json: { type: 'boolean', description: 'print the result and phase timings as JSON' },
  help: { type: 'boolean', short: 'h', description: 'show help' },
};

export function commandHelp(command: LabCommand): string {
  const lines = [`npm run lab -- ${command.name} [options]`, '', command.summary, '', 'Options:'];
  for (const [name, spec] of Object.entries({ ...command.options, ...GLOBAL_OPTIONS })) {
    const flag = `--${name}${spec.type === 'string' ? ' VALUE' : ''}`;
    lines.push(`  ${flag.padEnd(24)} ${spec.description}${spec.default !== undefined ? ` (default: ${spec.default})` : ''}`);
  }
  return lines.join('\n');
}

export function mainHelp(commands: readonly LabCommand[]): string {
  return [
    'lab: the post-deploy step and lifecycle of a cilium-lab (after `npx cdk deploy`)',
    '',
    'Usage: npm run lab -- <command> [options]     (npm run lab -- <command> --help)',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(12)} ${c.summary}`),
    '',
    'Every command takes -c key=value (the lab settings given to cdk) and --json.',
  ].join('\n');
}

/** Turns `-c key=value` flags into the context object the LabConfig loader takes. */
export function contextFromFlags(flags: readonly string[]): Record<string, string> {
  const context: Record<string, string> = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    if (eq <= 0) {
      throw new UsageError(`-c ${flag}: write a lab setting as key=value, e.g. -c labName=kans-w3`);
    }
    context[flag.slice(0, eq)] = flag.slice(eq + 1);
  }
  return context;
}

export interface RunCliOptions {
  readonly commands: readonly LabCommand[];
  /** May load its modules on call (scripts/lab.ts imports the AWS SDK only then). */
  readonly createServices: (config: LabConfig) => LabServices | Promise<LabServices>;
  readonly out?: (json: boolean) => Output;
}

/** Runs the CLI; returns the process exit code (0 ok, 1 failed, 2 usage). */
export async function runCli(argv: readonly string[], options: RunCliOptions): Promise<number> {
  const [name, ...rest] = argv;
  const makeOut = options.out ?? consoleOutput;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    makeOut(false).result(mainHelp(options.commands));
    return name ? 0 : 2;
  }
  const command = options.commands.find((c) => c.name === name);
  if (!command) {
    const out = makeOut(false);
    out.result(`lab: unknown command "${name}"; commands: ${options.commands.map((c) => c.name).join(', ')}`);
    return 2;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...rest],
      allowPositionals: true,
      strict: true,
      options: {
        ...Object.fromEntries(Object.entries(command.options ?? {}).map(([k, v]) => [k, { type: v.type }])),
        ...Object.fromEntries(Object.entries(GLOBAL_OPTIONS).map(([k, v]) => [k, { type: v.type, ...(v.short ? { short: v.short } : {}), ...(v.multiple ? { multiple: true } : {}) }])),
      },
    });
  } catch (error) {
    makeOut(false).result(`lab ${name}: ${(error as Error).message}\n\n${commandHelp(command)}`);
    return 2;
  }
  const json = parsed.values.json === true;
  const out = makeOut(json);
  if (parsed.values.help) {
    out.result(commandHelp(command));
    return 0;
  }
  const reporter = new PhaseReporter(name, out);
  let report: RunReport;
  try {
    const contextFlags = (parsed.values.context as string[] | undefined) ?? [];
    const config = loadLabConfig({ context: contextFromFlags(contextFlags) });
    let services: Promise<LabServices> | undefined;
    let target: Promise<LabTarget> | undefined;
    const values = Object.fromEntries(
      Object.entries(command.options ?? {}).map(([k, spec]) => [k, (parsed.values[k] as string | boolean | undefined) ?? spec.default]),
    );
    const ctx: CommandContext = {
      config,
      contextFlags,
      options: values,
      positionals: parsed.positionals,
      reporter,
      out,
      json,
      services: () => (services ??= Promise.resolve().then(() => options.createServices(config))),
      target: () =>
        (target ??= ctx
          .services()
          .then((s) => s.stackOutputs(config.labName))
          .then((outputs) => labTargetFromOutputs(config.labName, outputs))),
    };
    // The command's own input, offline, before it makes any call (lab create asks every part).
    command.validate?.(ctx);
    const result = await command.run(ctx);
    report = reporter.report(true, { result: result.data });
    if (json) out.result(JSON.stringify(report, null, 2));
    else out.result(result.text);
    return 0;
  } catch (error) {
    // The lab's own refusals and failures say what they are ("cilium-lab: ..."); only an error
    // nobody worded for a person keeps its class name, as a hint of where it came from.
    const known =
      error instanceof WordedError || error instanceof LabConfigError || error instanceof LabNotFoundError || error instanceof UsageError || /^cilium-lab: /.test((error as Error).message ?? '');
    const message = known ? (error as Error).message : `${(error as Error).name}: ${(error as Error).message}`;
    // An error may carry what the command got done before it failed (lab logs: the files that did arrive).
    const partial = (error as { result?: unknown }).result;
    report = reporter.report(false, { error: message, ...(partial !== undefined ? { result: partial } : {}) });
    if (json) out.result(JSON.stringify(report, null, 2));
    else out.result(`lab ${name} failed: ${message}`);
    // Only the lab's own errors choose their exit code: a refusal exits 2 (RefusalError), a run
    // stopped by a signal as a shell reports it (130, 143). Anything else (cdk's exit code on an
    // ExecaError included) is a failure: 1.
    const exitCode = (error as { exitCode?: unknown }).exitCode;
    if (error instanceof WordedError && typeof exitCode === 'number' && Number.isInteger(exitCode) && exitCode > 0) return exitCode;
    return 1;
  }
}
