/**
 * Progress of a CLI run: each phase with its elapsed time as it happens, a final summary, and
 * the same facts as JSON (`--json`) so a CI can keep the timings (time-to-green-lab).
 */
export interface PhaseRecord {
  readonly name: string;
  readonly status: 'ok' | 'failed' | 'skipped';
  readonly durationMs: number;
  readonly detail?: string;
}

export interface RunReport {
  readonly command: string;
  readonly ok: boolean;
  readonly phases: readonly PhaseRecord[];
  readonly totalMs: number;
  readonly result?: unknown;
  readonly error?: string;
}

export interface Output {
  /** Human-readable progress (stderr in JSON mode, so stdout stays pure JSON). */
  info(line: string): void;
  /** The final document (stdout). */
  result(text: string): void;
}

export const consoleOutput = (json: boolean): Output => ({
  info: (line) => (json ? process.stderr : process.stdout).write(`${line}\n`),
  result: (text) => process.stdout.write(`${text}\n`),
});

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

export class PhaseReporter {
  private readonly records: PhaseRecord[] = [];
  private readonly started: number;

  constructor(
    readonly command: string,
    private readonly out: Output,
    private readonly now: () => number = Date.now,
  ) {
    this.started = now();
  }

  /** Runs one phase, timing it; a failure is recorded and rethrown. */
  async phase<T>(name: string, run: () => Promise<T>, describe?: (value: T) => string): Promise<T> {
    const start = this.now();
    this.out.info(`▶ ${name}`);
    try {
      const value = await run();
      const durationMs = this.now() - start;
      const detail = describe?.(value);
      this.records.push({ name, status: 'ok', durationMs, ...(detail ? { detail } : {}) });
      this.out.info(`✔ ${name} (${seconds(durationMs)})${detail ? `: ${detail}` : ''}`);
      return value;
    } catch (error) {
      const durationMs = this.now() - start;
      this.records.push({ name, status: 'failed', durationMs, detail: (error as Error).message });
      this.out.info(`✘ ${name} (${seconds(durationMs)}): ${(error as Error).message}`);
      throw error;
    }
  }

  skip(name: string, why: string): void {
    this.records.push({ name, status: 'skipped', durationMs: 0, detail: why });
    this.out.info(`- ${name}: skipped (${why})`);
  }

  report(ok: boolean, extra: { result?: unknown; error?: string } = {}): RunReport {
    return { command: this.command, ok, phases: [...this.records], totalMs: this.now() - this.started, ...extra };
  }

  /** A plain-text summary table of the phases. */
  summary(): string {
    const width = Math.max(5, ...this.records.map((r) => r.name.length));
    const rows = this.records.map((r) => `${r.name.padEnd(width)}  ${r.status.padEnd(7)}  ${seconds(r.durationMs).padStart(7)}${r.detail ? `  ${r.detail}` : ''}`);
    return [`${'phase'.padEnd(width)}  ${'result'.padEnd(7)}  ${'time'.padStart(7)}`, ...rows, `total ${seconds(this.now() - this.started)}`].join('\n');
  }
}
