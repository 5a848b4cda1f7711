#!/usr/bin/env node
// `mnemo <command> [flags]`. The commands and their flags are declared in src/cli/commands.ts;
// each command's work lives in src/cli/<command>.ts, exporting `run(args: ParsedArgs): Promise<number>`
// (the exit code). Exit 2 is bad usage (unknown command or flag, bad value), 1 a failure.

import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { packageVersion } from '../kernel/version.js';
import { asksForHelp, dataDirOf, parseArgs, UsageError, type ParsedArgs } from './args.js';
import { commandHelp, commandNamed, mainHelp, type Command } from './commands.js';
import { interrupted, interruptedExitCode, stopOnSignals } from './interrupt.js';

const usageExitCode = 2;
/** Commands that run until stopped and handle SIGINT and SIGTERM themselves. */
const servers = new Set(['serve', 'mcp']);

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(mainHelp());
    return usageExitCode;
  }
  if (name === '--help' || name === '-h' || name === 'help') return help(rest[0]);
  if (name === '--version' || name === '-v' || name === 'version') {
    console.log(packageVersion());
    return 0;
  }
  const command = commandNamed(name);
  if (command === undefined) {
    console.error(`mnemo: unknown command '${name}'; \`mnemo help\` lists the commands`);
    return usageExitCode;
  }
  if (asksForHelp(rest)) {
    process.stdout.write(commandHelp(command));
    return 0;
  }
  let args: ParsedArgs;
  try {
    args = parseArgs(command.flags, rest, command.positionals.length);
    if (args.positionals.length < command.positionals.length) throw new UsageError(`missing ${command.positionals[args.positionals.length]}`);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`mnemo ${command.name}: ${e.message}; \`mnemo ${command.name} --help\` lists the flags`);
    return usageExitCode;
  }
  if (command.readsOnly === true && !isDataDir(dataDirOf(args))) {
    console.error(`mnemo ${command.name}: no data dir at ${dataDirOf(args)} (nothing was stored there); give --data-dir or MNEMO_DATA_DIR`);
    return 1;
  }
  const module = (await import(`./${command.name}.js`)) as { run: (args: ParsedArgs) => Promise<number> };
  if (!servers.has(command.name)) stopOnSignals(command.name);
  const code = await module.run(args);
  // The job has closed the engine. Output a stalled reader never took (a full stdout pipe) would
  // keep the process alive, so an interrupted command exits here.
  if (interrupted.aborted) process.exit(interruptedExitCode);
  return code;
}

/** `mnemo help [command]`. */
function help(name: string | undefined): number {
  if (name === undefined) {
    process.stdout.write(mainHelp());
    return 0;
  }
  const command: Command | undefined = commandNamed(name);
  if (command === undefined) {
    console.error(`mnemo help: unknown command '${name}'`);
    return usageExitCode;
  }
  process.stdout.write(commandHelp(command));
  return 0;
}

/** A data dir is a directory with a write-ahead log in it; anything else a read-only command refuses rather than creates. */
function isDataDir(dir: string): boolean {
  return existsSync(join(dir, 'wal'));
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
