// Given machines for federation tests: each a real engine in its own data dir behind a real
// server, optionally with peers (and TLS); a memory with shared and private domains; and a
// certificate authority made with openssl for HTTPS tests.

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openEngine, type FederationOptions, type MnemoEngine } from '../../src/index.js';
import { startHttpServer, type HttpServer } from '../../src/server/http.js';
import { mcpRoutes } from '../../src/mcp/route.js';
import { packageVersion } from '../../src/kernel/version.js';

const run = promisify(execFile);

export interface Machine {
  engine: MnemoEngine;
  server: HttpServer;
  url: string;
  dataDir: string;
  close(): Promise<void>;
}

export async function givenMachine(options: { federation?: FederationOptions; tls?: { certFile: string; keyFile: string }; host?: string } = {}): Promise<Machine> {
  const dataDir = await mkdtemp(join(tmpdir(), 'mnemo-fed-'));
  const engine = await openEngine({ dataDir, durability: 'none', onWarning: () => {}, ...(options.federation ? { federation: options.federation } : {}) });
  const server = await startHttpServer(engine, { host: options.host ?? '127.0.0.1', port: 0, extraRoutes: mcpRoutes(packageVersion()), ...(options.tls ? { tls: options.tls } : {}) });
  return {
    engine,
    server,
    url: server.url,
    dataDir,
    close: async () => {
      await server.close();
      await engine.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Ids of the memory `givenMemory` writes (prefix makes each machine's ids its own). */
export function memoryIds(prefix: string) {
  return {
    ada: `node:project:${prefix}-ada`,
    engine: `node:project:${prefix}-engine`,
    far: `node:project:${prefix}-far`,
    diary: `node:personal:${prefix}-diary`,
    loose: `vec:${prefix}-loose`,
  };
}

/**
 * Projects `ada` → `engine` (shared), `ada` → a personal `diary` → `far` (a project node reachable
 * only through the diary), vectors on ada, engine and the diary, and a vector under no node.
 */
export async function givenMemory(engine: MnemoEngine, prefix: string, words = 'ada'): Promise<ReturnType<typeof memoryIds>> {
  const ids = memoryIds(prefix);
  await engine.append([
    { type: 'prime.node.created', payload: { id: ids.ada, type: 'project', properties: { name: `${words} analytical engine`, note: `${words} composed programs` } } },
    { type: 'prime.node.created', payload: { id: ids.engine, type: 'project', properties: { name: 'difference engine' } } },
    { type: 'prime.node.created', payload: { id: ids.far, type: 'project', properties: { name: 'far away plan' } } },
    { type: 'prime.node.created', payload: { id: ids.diary, type: 'personal', properties: { name: 'secretname', diary: `${words} secretdiary entry` } } },
    { type: 'prime.edge.created', payload: { source: ids.ada, target: ids.engine, relation: 'built' } },
    { type: 'prime.edge.created', payload: { source: ids.ada, target: ids.diary, relation: 'wrote' } },
    { type: 'prime.edge.created', payload: { source: ids.diary, target: ids.far, relation: 'mentions' } },
    { type: 'prime.vector.stored', payload: { id: ids.ada, vector: [1, 0, 0], text: `${words} vector text` } },
    { type: 'prime.vector.stored', payload: { id: ids.engine, vector: [0.7, 0.7, 0], text: 'engine vector text' } },
    { type: 'prime.vector.stored', payload: { id: ids.diary, vector: [0.99, 0.05, 0], text: 'secretvectortext' } },
    { type: 'prime.vector.stored', payload: { id: ids.loose, vector: [0.98, 0, 0.1], text: 'loosevectortext' } },
  ]);
  await engine.whenIndexed();
  return ids;
}

export interface Authority {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  ca: string;
  close(): Promise<void>;
}

/** A private CA and a server certificate it signed for `ipAddress` (and localhost). */
export async function givenCertificateAuthority(ipAddress = '127.0.0.1'): Promise<Authority> {
  const dir = await mkdtemp(join(tmpdir(), 'mnemo-ca-'));
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => run('openssl', args);
  await openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=mnemo test CA', '-keyout', at('ca.key'), '-out', at('ca.pem'));
  await openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=mnemo peer', '-keyout', at('server.key'), '-out', at('server.csr'));
  await writeFile(at('san.ext'), `subjectAltName=IP:${ipAddress},DNS:localhost\n`);
  await openssl('x509', '-req', '-in', at('server.csr'), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', at('san.ext'), '-out', at('server.pem'));
  return {
    dir,
    caFile: at('ca.pem'),
    certFile: at('server.pem'),
    keyFile: at('server.key'),
    ca: await readFile(at('ca.pem'), 'utf8'),
    close: () => rm(dir, { recursive: true, force: true }),
  };
}
