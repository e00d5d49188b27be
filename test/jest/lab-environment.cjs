/**
 * Jest's node environment plus ONE CloudFormation validation engine per jest worker.
 *
 * aws-cdk-lib validates every synthesised template with @aws/cloudformation-validate (the
 * `@aws-cdk/core:validateAgainstDefaultRules` flag in cdk.json). Building its engine compiles
 * every resource schema and rego rule: about 1-3 s, paid again by each test file because jest
 * gives every file a fresh module registry. This environment is loaded once per worker, outside
 * those registries, so the engines it builds (one per distinct engine config) live as long as the
 * worker. Test files reach them through test/jest/shared-cfn-validate.cjs (jest's
 * moduleNameMapper points `@aws/cloudformation-validate` there).
 *
 * Nothing is skipped: every synth still runs the real engine, with the config aws-cdk-lib asks
 * for, on the template it produced. Values cross the realm boundary as JSON text, so no object of
 * one vm context is handed to the other.
 */
'use strict';
const { TestEnvironment } = require('jest-environment-node');

const engines = new Map();
let validator;
let stats = { enginesBuilt: 0, validations: 0 };

function loadValidator() {
  if (!validator) {
    // The copy aws-cdk-lib itself depends on (it may be nested under aws-cdk-lib/node_modules).
    const fromCdk = require.resolve('@aws/cloudformation-validate', { paths: [require.resolve('aws-cdk-lib')] });
    validator = require(fromCdk);
  }
  return validator;
}

const shared = Object.freeze({
  version: () => loadValidator().version(),
  /** Validates templateText with the engine built from configJson; returns the report as JSON. */
  validateTemplate(configJson, templateText, templateName, optionsJson) {
    const v = loadValidator();
    let engine = engines.get(configJson);
    if (!engine) {
      engine = new v.CompositeEngine(JSON.parse(configJson));
      engines.set(configJson, engine);
      stats.enginesBuilt += 1;
    }
    stats.validations += 1;
    const report = engine.validateTemplate(new v.TemplateContent(templateText, templateName), JSON.parse(optionsJson));
    return JSON.stringify(report);
  },
  stats: () => ({ ...stats, engines: engines.size }),
});

class LabTestEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.global.__ciliumLabSharedCfnValidate = shared;
  }
}

module.exports = LabTestEnvironment;
