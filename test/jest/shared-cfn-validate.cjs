/**
 * Stands in for @aws/cloudformation-validate inside test files (jest moduleNameMapper): the same
 * surface aws-cdk-lib's CloudFormationValidatePlugin uses (version, TemplateContent,
 * CompositeEngine#validateTemplate, free), backed by the worker-wide engines of
 * test/jest/lab-environment.cjs. See that file for why.
 */
'use strict';
const shared = globalThis.__ciliumLabSharedCfnValidate;
if (!shared) {
  throw new Error('test/jest/shared-cfn-validate.cjs needs the test environment test/jest/lab-environment.cjs (jest.config.js testEnvironment)');
}

class TemplateContent {
  constructor(content, name = 'template') {
    if (typeof content !== 'string' && !(content instanceof Uint8Array)) {
      throw new TypeError('template content must be a string or a Uint8Array');
    }
    this.content = content;
    this.name = name;
  }
}

class CompositeEngine {
  constructor(config) {
    this.configJson = JSON.stringify(config ?? {});
  }
  validateTemplate(template, options) {
    const text = typeof template.content === 'string' ? template.content : new TextDecoder().decode(template.content);
    return JSON.parse(shared.validateTemplate(this.configJson, text, template.name, JSON.stringify(options ?? {})));
  }
  /** The engine belongs to the worker, not to the plugin that asked for it. */
  free() {}
}

module.exports = { version: shared.version, TemplateContent, CompositeEngine, sharedStats: shared.stats };
