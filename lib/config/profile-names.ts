/** The study profiles' names (lib/config/profiles.ts has what each one is; the schema takes these). */
export const PROFILE_NAMES = ['study', 'cluster-pool', 'netkit', 'kube-proxy', 'eni', 'bgp'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];
export const DEFAULT_PROFILE: ProfileName = 'study';
