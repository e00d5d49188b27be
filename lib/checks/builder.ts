/**
 * The check builder (cilium-cli's `newTest(name).WithScenarios(...)`):
 *
 *   check('datapath')
 *     .proves('pods reach each other, services and the internet without kube-proxy')
 *     .withFixture(datapathFixture)
 *     .withScenarios(podToPod, podToClusterIp)
 *     .build()
 */
import type { Check, Fixture, Scenario } from './types.js';

export class CheckBuilder<F = unknown> {
  private text = '';
  private fixture: Fixture<F> | undefined;
  private readonly scenarios: Scenario<F>[] = [];

  constructor(private readonly name: string) {}

  proves(text: string): this {
    this.text = text;
    return this;
  }

  /** Before withScenarios: the scenarios are typed by the fixture they read. */
  withFixture<G>(fixture: Fixture<G>): CheckBuilder<G> {
    if (this.scenarios.length > 0) throw new Error(`check ${this.name}: call withFixture before withScenarios`);
    const next = new CheckBuilder<G>(this.name).proves(this.text);
    next.fixture = fixture;
    return next;
  }

  withScenarios(...scenarios: Scenario<F>[]): this {
    this.scenarios.push(...scenarios);
    return this;
  }

  build(): Check<F> {
    if (this.scenarios.length === 0) throw new Error(`check ${this.name} has no scenarios`);
    const names = this.scenarios.map((s) => s.name);
    const duplicate = names.find((n, i) => names.indexOf(n) !== i);
    if (duplicate) throw new Error(`check ${this.name} has two scenarios named ${duplicate}`);
    return {
      name: this.name,
      proves: this.text,
      scenarios: [...this.scenarios],
      ...(this.fixture ? { fixture: this.fixture } : {}),
    };
  }
}

export function check(name: string): CheckBuilder {
  return new CheckBuilder(name);
}
