// A small flag parser: `--name value`, `--name=value`, bare `--flag` (true), and positionals.
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface ParsedArgs {
  flags: Map<string, string | true>;
  positionals: string[];
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    if (eq > 0) {
      flags.set(arg.slice(2, eq), arg.slice(eq + 1));
      continue;
    }
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      flags.set(arg.slice(2), next);
      i++;
    } else {
      flags.set(arg.slice(2), true);
    }
  }
  return { flags, positionals };
}

export function flagString(args: ParsedArgs, name: string): string | undefined {
  const value = args.flags.get(name);
  return typeof value === 'string' ? value : undefined;
}

/** `--data-dir`, else $MNEMO_DATA_DIR, else ~/.mnemo. */
export function dataDirOf(args: ParsedArgs): string {
  return flagString(args, 'data-dir') ?? process.env.MNEMO_DATA_DIR ?? join(homedir(), '.mnemo');
}
