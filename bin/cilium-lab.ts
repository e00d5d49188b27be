#!/usr/bin/env node
/**
 * The CDK app. Parses the LabConfig once (defaults, `-c config=FILE`, `-c dotted.key=value`),
 * plans the lab, builds LabStack and runs cdk-nag's AwsSolutions checks on every synth.
 */
import { App } from 'aws-cdk-lib';
import { LabConfigError } from '../lib/config/load.js';
import { REFUSAL_EXIT_CODE } from '../lib/errors.js';
import { buildLabApp } from '../lib/infra/app.js';

const app = new App();
try {
  buildLabApp(app);
} catch (error) {
  if (error instanceof LabConfigError) {
    // A refusal, worded for the person (no stack): the same exit code as the lab CLI's refusals.
    console.error(error.message);
    process.exit(REFUSAL_EXIT_CODE);
  }
  throw error;
}
