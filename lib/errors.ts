/**
 * An error whose message is written for the person running the lab (what failed, where, what to
 * do): the `lab` CLI prints it as it is, with no class name in front, and exits 1. Errors nobody
 * worded for a person (a bug, an SDK error) keep their class name as a hint of where they came from.
 */
export class WordedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The exit status of every refusal of bad input (the CLI's usage errors, an invalid config, synth too). */
export const REFUSAL_EXIT_CODE = 2;

/**
 * Bad input, refused before any cloud call: worded like any WordedError, and the process exits
 * REFUSAL_EXIT_CODE (a failure of the lab itself exits 1).
 */
export class RefusalError extends WordedError {
  readonly exitCode = REFUSAL_EXIT_CODE;
}
