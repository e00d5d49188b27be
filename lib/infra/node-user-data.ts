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
  const block = declared.map((name) => `readonly ${name}=${shellQuote(values[name] as string)}`).join('\n');
  const withValues =
    source.slice(0, begin.index) + `# lab:values (rendered)\n${block}\n` + source.slice(end.index + end[0].length + 1);
  return stripComments(expandIncludes(scripts, entry, withValues));
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
