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
