// `--embedder URL|local:DIR` and `--embedder-model NAME`, with the bearer token from
// MNEMO_EMBEDDER_KEY (read from the environment only, so it never shows in `ps` or a shell history).

import { embedderFromSpec, type Embedder } from '../index.js';
import { flagString, type ParsedArgs } from './args.js';

export const embedderKeyVariable = 'MNEMO_EMBEDDER_KEY';

/** The embedder the flags name, undefined when none, or a message saying which flag is wrong. */
export function embedderOf(args: ParsedArgs): Embedder | undefined | string {
  const spec = flagString(args, 'embedder');
  const model = flagString(args, 'embedder-model');
  if (spec === undefined) return model === undefined ? undefined : '--embedder-model needs --embedder URL';
  if (model !== undefined && spec.startsWith('local:')) return '--embedder-model applies to a URL embedder; a local:DIR folder is its own model';
  const apiKey = process.env[embedderKeyVariable];
  const embedder = embedderFromSpec(spec, { ...(model ? { model } : {}), ...(apiKey ? { apiKey } : {}) });
  return embedder instanceof Error ? `--embedder: ${embedder.message}` : embedder;
}

/** One line for the startup log. */
export function embedderLine(embedder: Embedder | undefined): string {
  return embedder === undefined ? 'no embedder (text queries use BM25)' : `embedder ${embedder.describe()} (${embedder.dim}-d, warmed)`;
}
