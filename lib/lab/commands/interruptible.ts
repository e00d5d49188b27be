/**
 * The exercises' Ctrl-C and SIGTERM (lab density, lab perf): the signal aborts the work, whose own
 * clean-up (deleting its namespace) still runs, and the command exits 130 / 143 with `stopped`'s
 * message, whatever the signal cut (a wait, an exec, an SSM command, the clean-up's own wait).
 */
import { WordedError } from '../../errors.js';
import { SIGNAL_EXIT_CODES, type SignalSource } from './check.js';

export class InterruptedCommandError extends WordedError {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export async function interruptible<T>(signals: SignalSource, work: (signal: AbortSignal) => Promise<T>, stopped: (signal: 'SIGINT' | 'SIGTERM') => string): Promise<T> {
  const abort = new AbortController();
  let received: 'SIGINT' | 'SIGTERM' = 'SIGINT';
  const onInt = () => abort.abort();
  const onTerm = () => ((received = 'SIGTERM'), abort.abort());
  signals.on('SIGINT', onInt);
  signals.on('SIGTERM', onTerm);
  try {
    return await work(abort.signal);
  } catch (error) {
    if (abort.signal.aborted) throw new InterruptedCommandError(stopped(received), SIGNAL_EXIT_CODES[received]);
    throw error;
  } finally {
    signals.off('SIGINT', onInt);
    signals.off('SIGTERM', onTerm);
  }
}
