/**
 * The tool pins: every version the control plane downloads was really released (a pin that was
 * never published fails the boot with HTTP 404, as cilium-cli v0.20.0 would have), and each
 * cilium-cli pin supports its Cilium minor by that release's own README.
 */
import { CILIUM_MINORS, CLI_RELEASES, CONTROL_PLANE_TOOLS } from '../../lib/config/catalog.js';
import { loadLabConfig } from '../../lib/config/load.js';
import { planLab } from '../../lib/config/plan.js';

/** cilium-cli README per tag: the oldest Cilium minor each release supports. */
const CLI_OLDEST_MINOR: Record<string, string> = { 'v0.16.24': '1.15', 'v0.18.9': '1.16', 'v0.19.7': '1.16' };
const minorNumber = (minor: string): number => Number(minor.split('.')[1]);

describe('tool pins', () => {
  it.each(Object.entries(CILIUM_MINORS))('Cilium %s: the cilium-cli and Hubble CLI pins are released versions', (minor, row) => {
    expect(CLI_RELEASES.ciliumCli).toContain(row.cliVersion);
    expect(CLI_RELEASES.hubbleCli).toContain(row.hubbleCliVersion);
    expect(minorNumber(minor)).toBeGreaterThanOrEqual(minorNumber(CLI_OLDEST_MINOR[row.cliVersion] ?? '9.99'));
  });

  it('pins Helm to a released version', () => {
    expect(CLI_RELEASES.helm).toContain(CONTROL_PLANE_TOOLS.helmVersion);
  });

  it('takes the Hubble CLI of the same minor where one exists (the newest there is for 1.20)', () => {
    for (const [minor, row] of Object.entries(CILIUM_MINORS)) {
      const same = CLI_RELEASES.hubbleCli.find((v) => v.startsWith(`v${minor}.`));
      expect(row.hubbleCliVersion).toBe(same ?? CLI_RELEASES.hubbleCli[CLI_RELEASES.hubbleCli.length - 1]);
    }
  });

  it('plans the pins of the configured Cilium minor', () => {
    const tools = planLab(loadLabConfig({ context: { 'cilium.version': '1.20.0', 'kubernetes.version': '1.34.1' } })).tools;
    expect(tools).toMatchObject({ ciliumCliVersion: 'v0.19.7', hubbleCliVersion: 'v1.19.4', helmVersion: 'v3.16.4' });
  });
});
