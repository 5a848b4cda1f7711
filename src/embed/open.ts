// `--embedder URL|local:DIR`: one spec string to an Embedder.

import { LocalEmbedder } from './local.js';
import { RemoteEmbedder, type RemoteEmbedderOptions } from './remote.js';
import type { Embedder } from './embedder.js';

export interface EmbedderSpecOptions {
  /** For a URL: the model name sent (`--embedder-model`). */
  model?: string;
  /** For a URL: the bearer token (MNEMO_EMBEDDER_KEY). */
  apiKey?: string;
  remote?: Omit<RemoteEmbedderOptions, 'url' | 'model' | 'apiKey'>;
}

/** `local:DIR` → a local ONNX model folder; `http(s)://...` → an OpenAI-compatible endpoint. Anything else is an Error naming the spec. */
export function embedderFromSpec(spec: string, options: EmbedderSpecOptions = {}): Embedder | Error {
  if (spec.startsWith('local:')) {
    const dir = spec.slice('local:'.length);
    return dir === '' ? new Error("expected local:DIR, a model folder, after 'local:'") : new LocalEmbedder(dir);
  }
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    return new Error(`expected an http(s) URL or local:DIR, got '${spec}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return new Error(`expected an http(s) URL or local:DIR, got '${spec}'`);
  return new RemoteEmbedder({ url: spec, ...options.remote, ...(options.model ? { model: options.model } : {}), ...(options.apiKey ? { apiKey: options.apiKey } : {}) });
}
