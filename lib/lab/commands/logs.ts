/**
 * `lab logs`: every node's logs and the control plane's Cilium sysdump, downloaded and checked,
 * into a directory of the working directory (not the lab state directory: `lab down` removes
 * that, and logs are wanted after the lab is gone). The nightly workflow runs it on failure and
 * uploads the directory as an artifact.
 */
import { join } from 'node:path';
import { UsageError, type LabCommand } from '../cli.js';
import { DEFAULT_LOGS_BUDGET, LogsError, collectLogs, formatLogsResult, logsProblems, newRunId, type LogsBudget } from '../logs.js';
import { phaseDeps, type CommandSettings } from './shared.js';

export interface LogsSettings extends CommandSettings {
  readonly budget?: LogsBudget;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/** journalctl --since takes "<n> hours ago" / "<n> minutes ago"; the option takes 6h / 90m / 2d. */
export function journalSince(value: string): string {
  const match = /^(\d{1,4})([mhd])$/.exec(value.trim());
  if (!match || Number(match[1]) === 0) {
    throw new UsageError(`--since ${value}: give how far back the node logs go as <number><m|h|d>, e.g. --since 6h (the lab's lifetime is a good choice)`);
  }
  const unit = { m: 'minutes', h: 'hours', d: 'days' }[match[2] as 'm' | 'h' | 'd'];
  return `${Number(match[1])} ${unit} ago`;
}

export function logsCommand(settings: LogsSettings = {}): LabCommand {
  return {
    name: 'logs',
    summary: 'collect every node\'s logs and a Cilium sysdump (through the lab\'s S3 bucket), check them, and write them to a directory',
    options: {
      out: { type: 'string', description: 'directory for the files (created; default cilium-lab-logs/<labName>-<run id>): <out>/<node>/node-logs.tar.gz, cilium-sysdump.zip, collection.json' },
      since: { type: 'string', description: 'how far back journald goes: <number><m|h|d>', default: '6h' },
      'no-sysdump': { type: 'boolean', description: 'skip cilium sysdump on the control plane (it takes minutes on a broken cluster)' },
    },
    async run(ctx) {
      // Options first: a bad one costs no AWS call.
      const since = journalSince(String(ctx.options['since'] ?? '6h'));
      const runId = newRunId((settings.now ?? (() => new Date()))());
      const outOption = ctx.options['out'];
      const outDir = typeof outOption === 'string' && outOption !== '' ? outOption : join('cilium-lab-logs', `${ctx.config.labName}-${runId}`);
      const target = await ctx.target();
      const deps = await phaseDeps(ctx, settings);
      const result = await ctx.reporter.phase(
        'logs',
        () => collectLogs(deps, target, { outDir, since, runId, sysdump: ctx.options['no-sysdump'] !== true }, settings.budget ?? DEFAULT_LOGS_BUDGET),
        (r) => `${r.files.filter((f) => f.path).length} of ${r.files.length} file(s) in ${r.outDir}`,
      );
      const text = formatLogsResult(result);
      const problems = logsProblems(result);
      if (problems.length > 0) {
        ctx.out.info(text);
        throw new LogsError(`${problems.length} problem(s); what arrived is in ${result.outDir}:\n${problems.map((p) => `  - ${p}`).join('\n')}`, result);
      }
      return { text, data: result };
    },
  };
}
