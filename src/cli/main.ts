#!/usr/bin/env node
// `mnemo <command> [flags]`. Each command lives in its own file (src/cli/<command>.ts)
// exporting `run(args: ParsedArgs): Promise<number>` (the exit code).

import { parseArgs } from './args.js';

const commands = ['serve', 'mcp', 'setup', 'import', 'export', 'verify', 'checkpoint', 'compact', 'stats'] as const;
type Command = (typeof commands)[number];

function usage(): string {
  return `usage: mnemo <${commands.join('|')}> [--data-dir DIR] [flags]\n` + 'data dir defaults to $MNEMO_DATA_DIR or ~/.mnemo';
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  if (!(commands as readonly string[]).includes(name)) {
    console.error(`mnemo: unknown command '${name}'\n${usage()}`);
    return 2;
  }
  let module: { run: (args: ReturnType<typeof parseArgs>) => Promise<number> };
  try {
    module = await import(`./${name as Command}.js`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
      console.error(`mnemo: '${name}' is not available in this build yet`);
      return 2;
    }
    throw e;
  }
  return module.run(parseArgs(rest));
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(`mnemo: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  },
);
