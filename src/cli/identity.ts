// `mnemo identity [--data-dir DIR]`: prints this data dir's public key (creating the key pair if
// the data dir has none yet), the value other machines list in MNEMO_PEER_TRUST.

import { loadIdentity } from '../admin.js';
import { dataDirOf, type ParsedArgs } from './args.js';

export async function run(args: ParsedArgs): Promise<number> {
  if (args.flags.has('help')) {
    console.log('usage: mnemo identity [--data-dir DIR]\nprints the Ed25519 public key peers list in MNEMO_PEER_TRUST');
    return 0;
  }
  console.log(loadIdentity(dataDirOf(args)).publicKey);
  return 0;
}
