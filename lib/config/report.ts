/**
 * How a cross-field rule reports a finding: the field it is about, one sentence saying how to fix
 * it, and for a clash between two fields the same finding worded against the other one (the loader
 * shows that one when the user set the other field: load.ts).
 */
export type Report = (path: readonly (string | number)[], message: string, other?: { readonly path: readonly string[]; readonly message: string }) => void;
