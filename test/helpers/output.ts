import type { Output } from '../../lib/lab/reporter.js';

/** An Output that records what a command prints: progress lines, results, and both in order. */
export function recordingOutput(): { output: Output; info: string[]; results: string[]; all: string[] } {
  const info: string[] = [];
  const results: string[] = [];
  const all: string[] = [];
  return {
    info,
    results,
    all,
    output: {
      info: (line) => {
        info.push(line);
        all.push(line);
      },
      result: (text) => {
        results.push(text);
        all.push(text);
      },
    },
  };
}
