/**
 * One argument parser for the petromap commands: node:util parseArgs splits the words, then every
 * option is checked against its declared kind BEFORE a command does any work (no import, no
 * output written), so a mistake is reported in a second, with a message that names the option:
 *
 *   --pixel-um must be a positive number (µm), not "map.png" (that looks like a file: is the number missing?)
 *
 * Kinds: `string` (optionally one of `choices`), `path` (must exist; `file` or `dir` narrows it),
 * `number` (finite; `integer`, `min`, `exclusiveMin`, `unit`), `list` (comma separated, each one of
 * `choices`), `triple` (z,y,x numbers), `flag` (no value). Both `--name value` and `--name=value`
 * work. `multiple: true` makes an option repeatable (`--interior a --interior b`): its value is the
 * array of the checked values, in order (required: at least one). `sequence` gives every option as
 * written, in order, for options that qualify the one before them (`--interior a --pores p`).
 * Every failure is an InvalidInput PetromapError (exit code 1 through lib/cli/main.ts).
 */
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { invalidInput } from '../errors';

interface Common {
  required?: boolean;
  /** a one-letter alias (-o) */
  short?: string;
  /** one line for --help (optional; the USAGE text is written by hand) */
  about?: string;
  /** repeatable: the value is an array of every occurrence, in order (not for flags) */
  multiple?: boolean;
}
export type OptionSpec = Common & (
  | { kind: 'string'; choices?: readonly string[] }
  | { kind: 'path'; must?: 'exist' | 'file' | 'dir'; what?: string; /** said when a folder is wanted and a file was given */ fileHint?: string }
  | { kind: 'number'; integer?: boolean; min?: number; exclusiveMin?: boolean; unit?: string }
  | { kind: 'list'; choices: readonly string[] }
  | { kind: 'triple'; integer?: boolean }
  | { kind: 'flag' }
);

type ValueOf<S> = S extends { kind: 'flag' } ? boolean
  : S extends { kind: 'number' } ? number
  : S extends { kind: 'list' } ? string[]
  : S extends { kind: 'triple' } ? [number, number, number]
  : S extends { kind: 'string'; choices: readonly (infer C extends string)[] } ? C
  : string;

type One<S> = S extends { multiple: true } ? ValueOf<S>[] : ValueOf<S>;

export type ParsedOptions<O extends Record<string, OptionSpec>> = {
  [K in keyof O]: O[K] extends { required: true } ? One<O[K]> : O[K] extends { kind: 'flag' } ? boolean : One<O[K]> | undefined;
};

export interface CommandSpec<O extends Record<string, OptionSpec>> {
  usage: string;
  options: O;
  /** words without a leading -- (default: none allowed) */
  positionals?: { min?: number; max?: number; name: string };
}

const looksLikePath = (v: string) => /[/\\]/.test(v) || /\.[a-z][a-z0-9]{1,4}$/i.test(v) || existsQuiet(v);

function existsQuiet(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

/** A number option's value, or a message that names the option and what it needs. */
export function parseNumberOption(name: string, v: string, spec: { integer?: boolean; min?: number; exclusiveMin?: boolean; unit?: string }): number {
  const n = v.trim() === '' ? NaN : Number(v);
  const min = spec.min;
  const ok = Number.isFinite(n) && (!spec.integer || Number.isInteger(n)) &&
    (min === undefined || (spec.exclusiveMin ? n > min : n >= min));
  if (ok) return n;
  const what = spec.integer
    ? min === undefined ? 'a whole number' : spec.exclusiveMin ? `a whole number > ${min}` : `a whole number ≥ ${min}`
    : min === 0 && spec.exclusiveMin ? 'a positive number' : min === undefined ? 'a number' : spec.exclusiveMin ? `a number > ${min}` : `a number ≥ ${min}`;
  const hint = looksLikePath(v) ? ' (that looks like a file: is the number missing?)' : '';
  throw invalidInput(`--${name} must be ${what}${spec.unit ? ` (${spec.unit})` : ''}, not "${v.slice(0, 80)}"${hint}.`);
}

/** A comma-separated list option, each item one of `choices` (repeats dropped). */
export function parseListOption<C extends string>(name: string, v: string, choices: readonly C[]): C[] {
  const items = v.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = items.filter((s) => !(choices as readonly string[]).includes(s));
  if (!items.length || bad.length) throw invalidInput(`--${name} takes a comma-separated list of ${choices.join(', ')}${bad.length ? `; "${bad[0]!.slice(0, 40)}" is none of them` : ''}.`);
  return [...new Set(items)] as C[];
}

function parseTriple(name: string, v: string, integer: boolean): [number, number, number] {
  const parts = v.split(/[,x ]/).filter(Boolean).map(Number);
  if (parts.length !== 3 || parts.some((p) => !Number.isFinite(p) || p <= 0 || (integer && !Number.isInteger(p)))) {
    throw invalidInput(`--${name} needs three ${integer ? 'whole numbers' : 'positive numbers'} z,y,x (e.g. ${integer ? '700,1024,1024' : '2.5,2.5,2.5'}), not "${v.slice(0, 80)}".`);
  }
  return parts as [number, number, number];
}

function checkPath(name: string, v: string, spec: { must?: 'exist' | 'file' | 'dir'; what?: string; fileHint?: string }): string {
  if (!spec.must) return v;
  let st;
  try {
    st = statSync(v);
  } catch {
    throw invalidInput(`--${name}: ${spec.what ? `${spec.what} ` : ''}${v} does not exist.`);
  }
  if (spec.must === 'file' && st.isDirectory()) throw invalidInput(`--${name}: ${v} is a folder; give a file.`);
  // /dev/null, a pipe or a socket: not "a folder" (said so before)
  if (spec.must === 'file' && !st.isFile()) throw invalidInput(`--${name}: ${v} is not a regular file (a device, pipe or socket); give a file${spec.what ? ` holding ${spec.what}` : ''}.`);
  if (spec.must === 'dir' && !st.isDirectory()) throw invalidInput(`--${name}: ${v} is a file; give a folder${spec.fileHint ? ` (${spec.fileHint})` : ''}.`);
  return v;
}

function checkOne(name: string, raw: string | boolean, spec: OptionSpec): unknown {
  if (spec.kind === 'flag') return raw === true;
  const v = String(raw);
  switch (spec.kind) {
    case 'string':
      if (spec.choices && !spec.choices.includes(v)) throw invalidInput(`--${name} must be ${spec.choices.join(', ')}, not "${v.slice(0, 80)}".`);
      return v;
    case 'path':
      return checkPath(name, v, spec);
    case 'number':
      return parseNumberOption(name, v, spec);
    case 'triple':
      return parseTriple(name, v, !!spec.integer);
    case 'list':
      return parseListOption(name, v, spec.choices);
  }
}

/**
 * The usage as an error message ends with it: its first line, and where to read the rest (a
 * command's whole usage runs to 30 lines, which buried the one line that says what was wrong).
 */
export function shortUsage(usage: string): string {
  const [first, ...rest] = usage.split('\n');
  const cmd = /^usage: petromap ([\w-]+)/.exec(first!)?.[1];
  return rest.length && cmd ? `${first} (all options: petromap ${cmd} --help)` : usage;
}

/** Edit distance of two short words (option names). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The declared option a mistyped one most likely meant (--pixelum, --pixel_um, --Volume, --lables), if one is close. */
export function closestOption(typed: string, names: readonly string[]): string | undefined {
  const norm = (s: string) => s.replace(/^-+/, '').replace(/[-_]/g, '').toLowerCase();
  const t = norm(typed);
  if (!t) return undefined;
  let best: string | undefined, bestD = Infinity;
  for (const n of names) {
    const d = norm(n) === t ? 0 : distance(t, norm(n));
    if (d < bestD) [best, bestD] = [n, d];
  }
  return bestD <= Math.max(1, Math.min(2, Math.floor(t.length / 3))) ? best : undefined;
}

/** node:util's parse errors, said the petromap way ("--x needs a value", "Unknown option --y"). */
function parseError(err: unknown, usage: string, options: Record<string, OptionSpec> = {}): Error {
  const names = Object.keys(options);
  const msg = err instanceof Error ? err.message : String(err);
  const opt = /'(--?[^' <]+)/.exec(msg)?.[1] ?? '';
  const code = (err as { code?: string }).code;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const near = closestOption(opt.replace(/=.*/, ''), names);
    return invalidInput(`Unknown option ${opt}${near ? ` (did you mean --${near}?)` : ''}. ${usage}`);
  }
  if (/does not take an argument/.test(msg)) return invalidInput(`${opt} takes no value. ${usage}`);
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    // the values it takes, when they are a few words (--mirror needs a value: auto or none)
    const s = options[opt.replace(/^--/, '')];
    const choices = s && (s.kind === 'string' || s.kind === 'list') ? s.choices : undefined;
    const takes = choices?.length ? `: ${s!.kind === 'list' ? 'a comma-separated list of ' : ''}${choices.slice(0, -1).join(', ')}${choices.length > 1 ? ' or ' : ''}${choices[choices.length - 1]}` : '';
    return invalidInput(`${opt} needs a value${takes}. ${usage}`);
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return invalidInput(`Unexpected argument ${msg.match(/'([^']*)'/)?.[1] ?? ''}. ${usage}`);
  return invalidInput(`${msg.split('\n')[0]} ${usage}`);
}

/**
 * Parse and check every option of a command. Throws InvalidInput naming the first bad option;
 * returns the typed values and the positional words.
 */
export function parseCommandArgs<const O extends Record<string, OptionSpec>>(
  argv: string[], spec: CommandSpec<O>,
): { values: ParsedOptions<O>; positionals: string[]; sequence: { name: keyof O & string; value: unknown }[] } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [k, s] of Object.entries(spec.options)) {
    options[k] = { type: s.kind === 'flag' ? 'boolean' : 'string', ...(s.short ? { short: s.short } : {}), ...(s.multiple && s.kind !== 'flag' ? { multiple: true } : {}) };
  }
  const short = shortUsage(spec.usage);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true, tokens: true });
  } catch (err) {
    throw parseError(err, short, spec.options);
  }
  const pos = parsed.positionals;
  const pmin = spec.positionals?.min ?? 0, pmax = spec.positionals?.max ?? (spec.positionals ? Infinity : 0);
  if (pos.length > pmax) {
    throw invalidInput(pmax === 0
      ? `Unexpected argument "${pos[0]!.slice(0, 80)}" (options start with --). ${short}`
      : `Too many arguments (${pos.length}; at most ${pmax} ${spec.positionals!.name}). ${short}`);
  }
  if (pos.length < pmin) throw invalidInput(`Give the ${spec.positionals!.name}. ${short}`);
  const values: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(spec.options)) {
    const raw = (parsed.values as Record<string, string | boolean | string[] | undefined>)[k];
    if (raw === undefined) {
      if (s.required) throw invalidInput(`--${k} is required. ${short}`);
      values[k] = s.kind === 'flag' ? false : undefined;
    } else values[k] = Array.isArray(raw) ? raw.map((v) => checkOne(k, v, s)) : checkOne(k, raw, s);
  }
  // the options in the order written, each with its checked value (a repeated one: that occurrence's)
  const seen = new Map<string, number>();
  const sequence: { name: keyof O & string; value: unknown }[] = [];
  for (const t of parsed.tokens ?? []) {
    if (t.kind !== 'option') continue;
    const v = values[t.name], i = seen.get(t.name) ?? 0;
    seen.set(t.name, i + 1);
    sequence.push({ name: t.name as keyof O & string, value: Array.isArray(v) && spec.options[t.name]!.multiple ? v[i] : v });
  }
  return { values: values as ParsedOptions<O>, positionals: pos, sequence };
}

/** The parsed JSON of the file given to `--<name>` (InvalidInput naming the option when unreadable or not JSON). */
export async function readJsonOption(name: string, file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw invalidInput(`--${name}: ${file} could not be read (${err.code ?? err.message}).`);
  });
  try {
    return JSON.parse(text);
  } catch (err) {
    throw invalidInput(`--${name}: ${file} is not valid JSON (${(err as Error).message.slice(0, 80)}).`);
  }
}
