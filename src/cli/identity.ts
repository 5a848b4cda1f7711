// `mnemo identity [--data-dir DIR]`: prints this data dir's public key (creating the key pair if
// the data dir has none yet), the value other machines list in MNEMO_PEER_TRUST.

import { loadIdentity } from '../admin.js';
import { dataDirOf, type ParsedArgs } from './args.js';

export async function run(args: ParsedArgs): Promise<number> {
  console.log(loadIdentity(dataDirOf(args)).publicKey);
  return 0;
}
