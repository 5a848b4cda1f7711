// An OpenAI-compatible `POST /v1/embeddings` server on loopback: the external service's boundary,
// with vectors that carry meaning deterministically. Each word belongs to a concept (car, automobile
// and vehicle are one concept); a text's vector is the normalised count of its concepts, so texts
// that share no word but share a concept are near, as with a real sentence-embedding model.
// Failures are scripted: the next requests may answer 429, 500, or never.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const conceptDim = 16;

export const concepts: string[][] = [
  ['car', 'automobile', 'vehicle', 'sedan', 'drive', 'driving'],
  ['dog', 'puppy', 'canine', 'hound', 'pet'],
  ['money', 'revenue', 'income', 'earnings', 'profit', 'cash'],
  ['doctor', 'physician', 'medic', 'clinic', 'hospital'],
  ['forecast', 'prediction', 'projection', 'outlook'],
  ['fix', 'repair', 'mend', 'mechanic', 'garage'],
  ['food', 'meal', 'dinner', 'lunch', 'cuisine', 'restaurant'],
  ['travel', 'trip', 'journey', 'flight', 'vacation'],
];

/** The concept vector of a text: counts per concept (unknown words hash into the last dims), normalised. */
export function conceptVector(text: string): number[] {
  const v = new Array<number>(conceptDim).fill(0);
  for (const word of text.toLowerCase().match(/[a-z]+/g) ?? []) {
    const concept = concepts.findIndex((c) => c.includes(word));
    if (concept >= 0) v[concept]! += 1;
    else v[concepts.length + (hash(word) % (conceptDim - concepts.length))]! += 0.2;
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

function hash(word: string): number {
  let h = 0;
  for (const ch of word) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h;
}

export type Failure = '429' | '500' | 'hang' | '401';

export interface EmbeddingsServer {
  url: string;
  /** Every request's body and Authorization header, in order. */
  requests: Array<{ model: string; input: string[]; authorization: string | undefined }>;
  /** The next requests fail like this, one each, in order. */
  failNext(...failures: Failure[]): void;
  /** Every request fails like this until `failAlways(undefined)`. */
  failAlways(failure: Failure | undefined): void;
  close(): Promise<void>;
}

export async function startEmbeddingsServer(): Promise<EmbeddingsServer> {
  const requests: EmbeddingsServer['requests'] = [];
  const scripted: Failure[] = [];
  let always: Failure | undefined;
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => void answer(req, res));

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += chunk;
    const body = JSON.parse(text) as { model: string; input: string[] };
    requests.push({ model: body.model, input: body.input, authorization: req.headers.authorization });
    const failure = scripted.shift() ?? always;
    if (failure === 'hang') {
      hanging.add(res);
      return;
    }
    if (failure !== undefined) {
      res.writeHead(Number(failure), { 'content-type': 'application/json', ...(failure === '429' ? { 'retry-after': '0' } : {}) });
      res.end(JSON.stringify({ error: { message: `scripted ${failure}` } }));
      return;
    }
    // Answered out of order, as the API allows: the client must sort by index.
    const data = body.input.map((input, index) => ({ object: 'embedding', index, embedding: conceptVector(input) })).reverse();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ object: 'list', data, model: body.model }));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext: (...failures) => scripted.push(...failures),
    failAlways: (failure) => {
      always = failure;
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
