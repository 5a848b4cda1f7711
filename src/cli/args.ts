// Flags: each is declared once (name, MNEMO_* environment variable, kind, check, help line) and
// parsed with node:util's parseArgs in strict mode, so an unknown flag, a missing value or a
// stray positional is an error naming it, never silently ignored. A flag absent from the command
// line is read from its environment variable (empty counts as unset), then its default; every
// value passes its check whichever way it came.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs as parseArgv, type ParseArgsConfig } from 'node:util';

/** `string` takes one value; `list` may be repeated (its variable holds a comma-separated list); `boolean` takes none. */
export type FlagKind = 'string' | 'list' | 'boolean';

export interface Flag {
  /** The long name without dashes: `port` is `--port`. */
  readonly name: string;
  /** Read when the flag is not on the command line. */
  readonly env: `MNEMO_${string}`;
  readonly kind: FlagKind;
  /** The value's placeholder in help (`PORT`). */
  readonly valueName?: string;
  readonly help: string;
  /** Used when neither the flag nor its variable is given. */
  readonly default?: string;
  /** What is shown in help as the default, when that is not `default` itself (a path under the home directory). */
  readonly defaultText?: string;
  /** The command cannot run without it (from the command line or the environment). */
  readonly required?: boolean;
  /** Why a value is wrong, or undefined when it is fine. */
  readonly check?: (value: string) => string | undefined;
}

export type FlagValue = string | string[] | boolean;

export interface ParsedArgs {
  /** Every declared flag that has a value (command line, then environment, then default), by name; checked. */
  readonly values: Readonly<Record<string, FlagValue | undefined>>;
  readonly positionals: readonly string[];
}

/** Bad usage: the CLI prints the message and exits 2. */
export class UsageError extends Error {}

/** A check for a value from a fixed set. */
export function oneOf(choices: readonly string[]): (value: string) => string | undefined {
  return (value) => (choices.includes(value) ? undefined : `expected one of ${choices.join(', ')}, got '${value}'`);
}

/** A check for a TCP port (0 lets the OS choose one). */
export function tcpPort(value: string): string | undefined {
  return /^\d{1,5}$/.test(value) && Number(value) <= 65_535 ? undefined : `expected a port 0..65535, got '${value}'`;
}

const helpFlag = { help: { type: 'boolean', short: 'h' } } as const;

/** True when argv asks for help (`--help` or `-h` before any `--`): the command then prints help and does nothing else. */
export function asksForHelp(argv: readonly string[]): boolean {
  for (const arg of argv) {
    if (arg === '--') return false;
    if (arg === '--help' || arg === '-h') return true;
  }
  return false;
}

/** Parses argv against the declared flags; throws UsageError naming the first thing wrong. */
export function parseArgs(flags: readonly Flag[], argv: readonly string[], positionalsMax: number, env: NodeJS.ProcessEnv = process.env): ParsedArgs {
  const options: NonNullable<ParseArgsConfig['options']> = { ...helpFlag };
  for (const flag of flags) options[flag.name] = { type: flag.kind === 'boolean' ? 'boolean' : 'string', multiple: flag.kind === 'list' };
  let parsed: ReturnType<typeof parseArgv>;
  try {
    parsed = parseArgv({ args: [...argv], options, strict: true, allowPositionals: positionalsMax > 0 });
  } catch (e) {
    throw new UsageError(firstSentence((e as Error).message));
  }
  if (parsed.positionals.length > positionalsMax) throw new UsageError(`unexpected argument '${parsed.positionals[positionalsMax]}'`);
  const values: Record<string, FlagValue | undefined> = {};
  for (const flag of flags) {
    values[flag.name] = valueOf(flag, parsed.values[flag.name], env);
    if (flag.required === true && values[flag.name] === undefined) throw new UsageError(`--${flag.name} is required (or ${flag.env})`);
  }
  return { values, positionals: parsed.positionals };
}

function valueOf(flag: Flag, given: string | boolean | (string | boolean)[] | undefined, env: NodeJS.ProcessEnv): FlagValue | undefined {
  if (given !== undefined) return checked(flag, given as FlagValue, `--${flag.name}`);
  const fromEnv = env[flag.env];
  if (fromEnv !== undefined && fromEnv !== '') return checked(flag, envValue(flag, fromEnv), flag.env);
  if (flag.default === undefined) return undefined;
  return flag.kind === 'list' ? [flag.default] : flag.kind === 'boolean' ? flag.default === 'true' : flag.default;
}

function envValue(flag: Flag, text: string): FlagValue {
  if (flag.kind === 'list') return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (flag.kind === 'string') return text;
  if (/^(1|true|yes)$/i.test(text)) return true;
  if (/^(0|false|no)$/i.test(text)) return false;
  throw new UsageError(`${flag.env}: expected true or false, got '${text}'`);
}

function checked(flag: Flag, value: FlagValue, source: string): FlagValue {
  if (flag.check === undefined || typeof value === 'boolean') return value;
  for (const one of Array.isArray(value) ? value : [value]) {
    const problem = flag.check(one);
    if (problem !== undefined) throw new UsageError(`${source}: ${problem}`);
  }
  return value;
}

/** node:util's messages go on to explain `--` escaping; the first sentence names the flag. */
function firstSentence(message: string): string {
  const end = message.indexOf('. ');
  const sentence = end < 0 ? message : message.slice(0, end);
  return sentence.charAt(0).toLowerCase() + sentence.slice(1);
}

export function flagString(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

export function flagList(args: ParsedArgs, name: string): string[] {
  const value = args.values[name];
  return Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
}

// ---- flags several commands share ----

export const defaultDataDir = join(homedir(), '.mnemo');

export const dataDirFlag: Flag = { name: 'data-dir', env: 'MNEMO_DATA_DIR', kind: 'string', valueName: 'DIR', help: 'the data directory', default: defaultDataDir, defaultText: '~/.mnemo' };

export const durabilities = ['fsync', 'interval', 'none'] as const;

export const durabilityFlag: Flag = {
  name: 'durability',
  env: 'MNEMO_DURABILITY',
  kind: 'string',
  valueName: 'MODE',
  help: `when a write is acknowledged: ${durabilities.join(', ')}`,
  default: 'fsync',
  check: oneOf(durabilities),
};

/** The data dir: --data-dir, else $MNEMO_DATA_DIR, else ~/.mnemo. */
export function dataDirOf(args: ParsedArgs): string {
  return flagString(args, 'data-dir') ?? defaultDataDir;
}
