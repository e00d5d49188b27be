/** `lab profiles`: the study profiles, one line each on what it teaches (lib/config/profiles.ts). */
import { DEFAULT_PROFILE } from '../../config/profile-names.js';
import { PROFILES } from '../../config/profiles.js';
import type { LabCommand } from '../cli.js';

export const profilesCommand: LabCommand = {
  name: 'profiles',
  summary: 'the study profiles (-c profile=<name>) and what each one teaches',
  async run() {
    const rows = Object.values(PROFILES).map((p) => ({ name: p.name, teaches: p.teaches, default: p.name === DEFAULT_PROFILE, helmOverlay: 'helmOverlay' in p ? `helm-values/profiles/${p.helmOverlay}` : undefined }));
    const width = Math.max(...rows.map((r) => r.name.length));
    const text = [
      ...rows.map((r) => `${r.name.padEnd(width)}  ${r.teaches}${r.default ? ' (default)' : ''}`),
      '',
      'Pick one with -c profile=<name>, e.g. npm run lab -- create -c profile=cluster-pool',
    ].join('\n');
    return { text, data: rows };
  },
};
