// `mnemo serve`'s federation flags: --peer NAME=URL (repeatable) and MNEMO_PEERS, --peer-ca FILE,
// --origin NAME, --tls-cert FILE --tls-key FILE.

import { readFileSync } from 'node:fs';
import { parsePeerList, peersVariable } from '../admin.js';
import type { FederationOptions } from '../index.js';

export interface FederationFlags {
  federation?: FederationOptions;
  tls?: { certFile: string; keyFile: string };
}

/** The options, or a message naming the wrong flag. `repeated(name)` gives every value of a repeatable flag. */
export function readFederationFlags(flag: (name: string) => string | undefined, repeated: (name: string) => string[]): FederationFlags | string {
  // Peers named by --peer and by MNEMO_PEERS both count (a name given twice: the flag's URL wins).
  const fromFlags = parsePeerList(repeated('peer'), '--peer');
  if (typeof fromFlags === 'string') return fromFlags;
  const fromEnv = parsePeerList((process.env[peersVariable] ?? '').split(','), peersVariable);
  if (typeof fromEnv === 'string') return fromEnv;
  const flags: FederationFlags = {};
  const caFile = flag('peer-ca');
  let ca: string | undefined;
  if (caFile !== undefined) {
    try {
      ca = readFileSync(caFile, 'utf8');
    } catch (e) {
      return `--peer-ca: cannot read '${caFile}': ${(e as Error).message}`;
    }
  }
  const origin = flag('origin');
  const peers = [...fromFlags, ...fromEnv.filter((p) => !fromFlags.some((f) => f.name === p.name))];
  if (peers.length > 0 || origin !== undefined) {
    flags.federation = { peers, ...(origin === undefined ? {} : { origin }), ...(ca === undefined ? {} : { ca }) };
  }
  const certFile = flag('tls-cert');
  const keyFile = flag('tls-key');
  if ((certFile === undefined) !== (keyFile === undefined)) return '--tls-cert and --tls-key go together';
  if (certFile !== undefined && keyFile !== undefined) {
    for (const [name, file] of [['--tls-cert', certFile], ['--tls-key', keyFile]] as const) {
      try {
        readFileSync(file);
      } catch (e) {
        return `${name}: cannot read '${file}': ${(e as Error).message}`;
      }
    }
    flags.tls = { certFile, keyFile };
  }
  return flags;
}
