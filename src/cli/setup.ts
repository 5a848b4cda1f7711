// `mnemo setup [--data-dir DIR] [--embedder URL|local:DIR] [--embedder-model NAME]`: writes
// `.mcp.json` in the current folder (Claude Code reads it) with the absolute command, so the
// client finds mnemo whatever its PATH, and prints the same server for other MCP clients.
// Idempotent: other servers already in the file are kept, and a second run changes nothing.

import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { dataDirOf, flagString, type ParsedArgs } from './args.js';
import { embedderKeyVariable } from './embedder.js';

export const mcpConfigFile = '.mcp.json';
const serverName = 'mnemo';

const help = `usage: mnemo setup [--data-dir DIR] [--embedder URL|local:DIR] [--embedder-model NAME]
Writes ${mcpConfigFile} in the current folder for Claude Code (keeping other servers in it) and prints the
configuration for other MCP clients. ${embedderKeyVariable} is never written: set it in the client's environment.`;

interface ServerEntry {
  command: string;
  args: string[];
}

/** The stdio server entry: node and this build's CLI, both absolute. */
export function serverEntry(args: ParsedArgs): ServerEntry {
  const cli = fileURLToPath(new URL('./main.js', import.meta.url));
  const flags = ['--data-dir', resolve(dataDirOf(args))];
  for (const name of ['embedder', 'embedder-model']) {
    const value = flagString(args, name);
    if (value !== undefined) flags.push(`--${name}`, name === 'embedder' && value.startsWith('local:') ? `local:${resolve(value.slice(6))}` : value);
  }
  return { command: process.execPath, args: [cli, 'mcp', ...flags] };
}

export async function run(args: ParsedArgs): Promise<number> {
  const entry = serverEntry(args);
  const file = resolve(mcpConfigFile);
  let config: { mcpServers?: Record<string, unknown>; [key: string]: unknown } = {};
  if (existsSync(file)) {
    try {
      config = JSON.parse(readFileSync(file, 'utf8')) as typeof config;
    } catch (e) {
      console.error(`mnemo setup: ${file} is not valid JSON (${(e as Error).message}); fix or move it, then run again`);
      return 1;
    }
    if (typeof config !== 'object' || config === null || Array.isArray(config)) {
      console.error(`mnemo setup: ${file} does not hold a JSON object; fix or move it, then run again`);
      return 1;
    }
  }
  const servers = { ...(config.mcpServers ?? {}) };
  const unchanged = JSON.stringify(servers[serverName]) === JSON.stringify(entry);
  if (!unchanged) {
    servers[serverName] = entry;
    // Written beside and renamed over: a client reading the file never sees half of it.
    writeFileSync(`${file}.tmp`, JSON.stringify({ ...config, mcpServers: servers }, null, 2) + '\n');
    renameSync(`${file}.tmp`, file);
  }
  console.log(`${unchanged ? 'unchanged' : 'wrote'} ${file} (Claude Code: server '${serverName}'${Object.keys(servers).length > 1 ? `, beside ${Object.keys(servers).length - 1} other(s)` : ''})`);
  console.log(snippets(entry));
  return 0;
}

function snippets(entry: ServerEntry): string {
  const json = JSON.stringify({ mcpServers: { [serverName]: entry } }, null, 2);
  const toml = `[mcp_servers.${serverName}]\ncommand = ${JSON.stringify(entry.command)}\nargs = ${JSON.stringify(entry.args)}`;
  return [
    '',
    'Claude Desktop (claude_desktop_config.json), Cursor (.cursor/mcp.json), Windsurf, Cline: add',
    json,
    '',
    'VS Code (.vscode/mcp.json): the same entry under "servers" with "type": "stdio".',
    '',
    'Codex (~/.codex/config.toml):',
    toml,
    '',
    `Claude Code, by command instead of ${mcpConfigFile}: claude mcp add ${serverName} -- ${[entry.command, ...entry.args].map(shellQuote).join(' ')}`,
    `A running 'mnemo serve' also answers MCP over HTTP at http://127.0.0.1:3905/mcp.`,
  ].join('\n');
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
