/**
 * Renders the user data of a lab instance from the real scripts in scripts/node/.
 *
 * A role script (control-plane.sh, worker.sh, testpc.sh) is a runnable, shellcheck-clean bash
 * file. Its template markers sit in comments:
 *   - `# lab:values begin` ... `# lab:values end`: example assignments, replaced by the values
 *     given here (every name in the block must be given, and nothing else);
 *   - `# lab:include FILE`: replaced by FILE's body (shebang dropped);
 *   - lines ending in `# lab:standalone-only` (the `source` lines used when run by hand): dropped.
 * Comment-only and blank lines outside heredocs are dropped too: EC2 caps user data at 16 KB and
 * the scripts' documentation lives in the repository, not on the instance.
 * `renderNodeScript` is pure: script sources in, user data out. `readNodeScripts` is the I/O.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { gzipSync, strToU8 } from 'fflate';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** Script file name -> content. */
export type NodeScripts = Readonly<Record<string, string>>;

/** Values for a values block: bash variable name -> value (a plain string or a CDK token string). */
export type ScriptValues = Readonly<Record<string, string>>;

/** EC2 refuses user data over 16 KB before base64 (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-add-user-data.html). */
export const USER_DATA_LIMIT_BYTES = 16 * 1024;

const VALUES_BEGIN = /^# lab:values begin\b.*$/m;
const VALUES_END = /^# lab:values end\s*$/m;
const INCLUDE = /^# lab:include (\S+)\s*$/;
const STANDALONE_ONLY = /# lab:standalone-only\s*$/;
const ASSIGNMENT = /^([A-Z][A-Z0-9_]*)=/;

export const NODE_SCRIPTS_DIR = fileURLToPath(new URL('../../scripts/node/', import.meta.url));

/** Reads every script of scripts/node (relative to this module, not to where cdk runs). */
export function readNodeScripts(dir: string = NODE_SCRIPTS_DIR): NodeScripts {
  const scripts: Record<string, string> = {};
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.sh')).sort()) {
    scripts[name] = readFileSync(join(dir, name), 'utf8');
  }
  return scripts;
}

/** Single-quotes a value for bash. CDK tokens (`${Token[...]}`) pass through unchanged. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The variable names declared in a script's values block. */
export function valueNames(script: string, scriptName: string): string[] {
  const begin = VALUES_BEGIN.exec(script);
  const end = VALUES_END.exec(script);
  if (!begin || !end || end.index < begin.index) {
    throw new Error(`${scriptName} has no "# lab:values begin" ... "# lab:values end" block`);
  }
  return script
    .slice(begin.index + begin[0].length, end.index)
    .split('\n')
    .map((line) => ASSIGNMENT.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
}

/**
 * Renders `entry` with `values`. Throws when the values do not match the script's values block
 * exactly (a renamed or new variable in a script cannot silently render as empty).
 */
export function renderNodeScript(scripts: NodeScripts, entry: string, values: ScriptValues): string {
  const source = scripts[entry];
  if (source === undefined) {
    throw new Error(`no node script named ${entry} (have: ${Object.keys(scripts).join(', ')})`);
  }
  const declared = valueNames(source, entry);
  const given = Object.keys(values);
  const missing = declared.filter((name) => !given.includes(name));
  const extra = given.filter((name) => !declared.includes(name));
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(
      `values for ${entry} do not match its values block:` +
        (missing.length ? ` missing ${missing.join(', ')};` : '') +
        (extra.length ? ` not declared ${extra.join(', ')};` : ''),
    );
  }
  const begin = VALUES_BEGIN.exec(source) as RegExpExecArray;
  const end = VALUES_END.exec(source) as RegExpExecArray;
  const block = valuesBlock(declared, values);
  const withValues =
    source.slice(0, begin.index) + `# lab:values (rendered)\n${block}\n` + source.slice(end.index + end[0].length + 1);
  return dropUnusedFunctions(stripComments(expandIncludes(scripts, entry, withValues)));
}

/** The rendered values block: one `readonly NAME='value'` line per declared value, in order. */
function valuesBlock(declared: readonly string[], values: ScriptValues): string {
  return declared.map((name) => `readonly ${name}=${shellQuote(values[name] as string)}`).join('\n');
}

/** Where a node unpacks its boot script (root only; kept for reading after the boot). */
export const UNPACKED_SCRIPT_DIR = '/var/lib/cilium-lab';

/** gzip + base64, deterministic on every machine: fflate is pure JavaScript (no platform zlib) and the gzip header carries no time. */
function packText(text: string): string {
  const packed = Buffer.from(gzipSync(strToU8(text), { level: 9, mem: 8, mtime: 0 })).toString('base64');
  return packed.replace(/.{1,76}/g, '$&\n');
}

/**
 * The user data of a node: `renderNodeScript` of `entry`, with everything but its values block
 * gzip-compressed and base64-encoded (EC2 takes 16 KB of user data: the control plane's script
 * alone is near that). The values stay plain text, because CloudFormation fills some of them in
 * (region, signal URL, secret ARN, Elastic IP). At boot the node rebuilds the exact script under
 * /var/lib/cilium-lab (0700, root) and runs it; `unpackUserData` does the same offline.
 */
export function renderNodeUserData(scripts: NodeScripts, entry: string, values: ScriptValues): string {
  const script = renderNodeScript(scripts, entry, values);
  const block = valuesBlock(valueNames(scripts[entry] ?? '', entry), values);
  const at = script.indexOf(`\n${block}\n`);
  if (block === '' || at < 0 || script.indexOf(`\n${block}\n`, at + 1) >= 0) {
    throw new Error(`${entry}: the rendered values block is not found exactly once in the script`);
  }
  const before = script.slice(0, at + 1);
  const after = script.slice(at + 1 + block.length + 1);
  const target = `${UNPACKED_SCRIPT_DIR}/${entry}`;
  return [
    '#!/usr/bin/env bash',
    `# cilium-lab: ${entry}, packed (gzip + base64 around its values) to fit EC2's 16 KB; unpacked to ${target} and run from there.`,
    'set -o errexit -o nounset -o pipefail',
    `install -d -m 0700 ${UNPACKED_SCRIPT_DIR}`,
    // umask 077 for the unpacked file only (a subshell): the boot itself keeps the default umask,
    // so the files it writes (the web page, apt sources) stay readable as they should.
    '(',
    'umask 077',
    '{',
    "base64 -d <<'LAB_PACKED_HEAD' | gzip -dc",
    `${packText(before)}LAB_PACKED_HEAD`,
    "cat <<'LAB_VALUES'",
    block,
    'LAB_VALUES',
    "base64 -d <<'LAB_PACKED_TAIL' | gzip -dc",
    `${packText(after)}LAB_PACKED_TAIL`,
    `} >${target}`,
    ')',
    `exec bash ${target}`,
    '',
  ].join('\n');
}

/** A function definition at the top level of a script: `name() {` up to the first `}` in column 0. */
const FUNCTION_START = /^([A-Za-z_][A-Za-z0-9_:]*)\(\) \{\s*$/;

/**
 * The script without the top-level functions nothing in it calls (an included library brings
 * more than each role needs, and user data is capped at 16 KB). A function counts as used when its
 * name appears as a word anywhere outside its own body (a call, a trap string, another used
 * function), so nothing that might run is dropped.
 */
export function dropUnusedFunctions(script: string): string {
  const lines = script.split('\n');
  const functions: { name: string; start: number; end: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const name = FUNCTION_START.exec(lines[i] as string)?.[1];
    if (name === undefined) continue;
    const end = lines.findIndex((line, j) => j > i && line === '}');
    if (end < 0) throw new Error(`function ${name} (line ${i + 1}) has no closing brace in column 0`);
    functions.push({ name, start: i, end });
    i = end;
  }
  const bodyOf = (f: { start: number; end: number }) => lines.slice(f.start + 1, f.end).join('\n');
  const inFunction = new Set(functions.flatMap((f) => Array.from({ length: f.end - f.start + 1 }, (_, k) => f.start + k)));
  const topLevel = lines.filter((_, i) => !inFunction.has(i)).join('\n');
  const mentions = (text: string, name: string) => new RegExp(`(^|[^A-Za-z0-9_:])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^A-Za-z0-9_:])`, 'm').test(text);
  const used = new Set<string>();
  let frontier = topLevel;
  for (;;) {
    const added = functions.filter((f) => !used.has(f.name) && mentions(frontier, f.name));
    if (added.length === 0) break;
    for (const f of added) used.add(f.name);
    frontier = added.map(bodyOf).join('\n');
  }
  const dropped = new Set(functions.filter((f) => !used.has(f.name)).flatMap((f) => Array.from({ length: f.end - f.start + 1 }, (_, k) => f.start + k)));
  const kept = lines.filter((_, i) => !dropped.has(i));
  if (dropped.size === 0) return kept.join('\n');
  // The library's globals of a dropped function stay: shellcheck may call them unused here (the
  // sources themselves are linted with SC2034 on).
  const directive = '# shellcheck disable=SC2034 # globals of library functions this script does not call';
  return (kept[0]?.startsWith('#!') ? [kept[0], directive, ...kept.slice(1)] : [directive, ...kept]).join('\n');
}

const HEREDOC_START = /<<-?\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\1/;

/** Drops comment-only and blank lines, keeping the shebang and every line inside a heredoc. */
export function stripComments(script: string): string {
  const out: string[] = [];
  let heredocEnd: string | undefined;
  script.split('\n').forEach((line, index) => {
    if (heredocEnd !== undefined) {
      out.push(line);
      if (line.trim() === heredocEnd) heredocEnd = undefined;
      return;
    }
    const trimmed = line.trim();
    if ((trimmed === '' || trimmed.startsWith('#')) && !(index === 0 && trimmed.startsWith('#!'))) {
      return;
    }
    out.push(line);
    heredocEnd = HEREDOC_START.exec(line)?.[2];
  });
  return `${out.join('\n')}\n`;
}

function expandIncludes(scripts: NodeScripts, entry: string, text: string): string {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (STANDALONE_ONLY.test(line)) {
      continue;
    }
    const include = INCLUDE.exec(line);
    if (!include) {
      out.push(line);
      continue;
    }
    const name = include[1] as string;
    const body = scripts[name];
    if (body === undefined) {
      throw new Error(`${entry} includes ${name}, which is not in scripts/node`);
    }
    out.push(`# ---- begin ${name} ----`, ...body.split('\n').filter((l) => !l.startsWith('#!')), `# ---- end ${name} ----`);
  }
  return out.join('\n');
}
