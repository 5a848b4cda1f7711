// A tiny sentence-embedding model folder laid out as all-MiniLM-L6-v2's is (config.json,
// tokenizer.json, tokenizer_config.json, onnx/model.onnx), built here so the local embedder runs
// for real with no network. The model is BERT's embedding layer alone: word embeddings gathered by
// input_ids plus token-type embeddings, masked by attention_mask; the feature-extraction pipeline
// mean-pools and normalises it as it does MiniLM's output. Words of one concept share a row, so
// "automobile" lands where "car" does. The ONNX protobuf is written by hand (a few message types).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { concepts } from './embeddings-server.js';

export const tinyDim = 16;
const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

/** The vocabulary: special tokens, then every concept word. */
export function tinyVocab(): Map<string, number> {
  const vocab = new Map<string, number>();
  for (const token of [...specials, ...concepts.flat()]) vocab.set(token, vocab.size);
  return vocab;
}

/** The embedding table row of a token: a concept's words share a one-hot row; [UNK] its own; [CLS], [SEP], [PAD] zero. */
export function tinyRow(token: string): number[] {
  const row = new Array<number>(tinyDim).fill(0);
  const concept = concepts.findIndex((c) => c.includes(token));
  if (concept >= 0) row[concept] = 1;
  else if (token === '[UNK]') row[tinyDim - 1] = 1;
  return row;
}

/** What the pipeline should answer for a text: the normalised mean of its tokens' rows (the specials add zero). */
export function tinyExpected(text: string): number[] {
  const sum = new Array<number>(tinyDim).fill(0);
  const vocab = tinyVocab();
  for (const word of text.toLowerCase().match(/[a-z]+|[^\sa-z]/g) ?? []) {
    tinyRow(vocab.has(word) ? word : '[UNK]').forEach((x, i) => (sum[i]! += x));
  }
  const norm = Math.hypot(...sum) || 1;
  return sum.map((x) => x / norm);
}

// ---- protobuf, by hand ----

function varint(value: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return out;
}

type Field = [number, number | bigint | string | Uint8Array | number[]];

/** A message: numbers as varints (wire type 0), strings, bytes and nested messages length-delimited (2). */
function message(fields: Field[]): Uint8Array {
  const out: number[] = [];
  for (const [number, value] of fields) {
    if (typeof value === 'number' || typeof value === 'bigint') {
      out.push(...varint(number << 3), ...varint(value));
      continue;
    }
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Uint8Array.from(value);
    out.push(...varint((number << 3) | 2), ...varint(bytes.length), ...bytes);
  }
  return Uint8Array.from(out);
}

const float = 1;
const int64 = 7;

function tensor(name: string, dims: number[], dataType: number, raw: Uint8Array): Uint8Array {
  return message([...dims.map((d): Field => [1, d]), [2, dataType], [8, name], [9, raw]]);
}

function valueInfo(name: string, elemType: number, dims: Array<number | string>): Uint8Array {
  const shape = message(dims.map((d): Field => [1, typeof d === 'number' ? message([[1, d]]) : message([[2, d]])]));
  return message([[1, name], [2, message([[1, message([[1, elemType], [2, shape]])]])]]);
}

function node(op: string, inputs: string[], outputs: string[], attributes: Uint8Array[] = []): Uint8Array {
  return message([...inputs.map((i): Field => [1, i]), ...outputs.map((o): Field => [2, o]), [3, `${op}_${outputs[0]}`], [4, op], ...attributes.map((a): Field => [5, a])]);
}

function floatsRaw(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

function modelBytes(vocabSize: number, table: number[]): Uint8Array {
  const graph = message([
    [1, node('Gather', ['word_embeddings', 'input_ids'], ['words'])],
    [1, node('Gather', ['token_type_embeddings', 'token_type_ids'], ['types'])],
    [1, node('Add', ['words', 'types'], ['summed'])],
    [1, node('Cast', ['attention_mask'], ['mask_float'], [message([[1, 'to'], [3, float], [20, 2]])])],
    [1, node('Unsqueeze', ['mask_float', 'last_axis'], ['mask_3d'])],
    [1, node('Mul', ['summed', 'mask_3d'], ['last_hidden_state'])],
    [2, 'tiny-embedding'],
    [5, tensor('word_embeddings', [vocabSize, tinyDim], float, floatsRaw(table))],
    [5, tensor('token_type_embeddings', [2, tinyDim], float, floatsRaw(new Array(2 * tinyDim).fill(0)))],
    [5, tensor('last_axis', [1], int64, new Uint8Array(BigInt64Array.from([-1n]).buffer))],
    [11, valueInfo('input_ids', int64, ['batch', 'sequence'])],
    [11, valueInfo('attention_mask', int64, ['batch', 'sequence'])],
    [11, valueInfo('token_type_ids', int64, ['batch', 'sequence'])],
    [12, valueInfo('last_hidden_state', float, ['batch', 'sequence', tinyDim])],
  ]);
  return message([[1, 8], [2, 'mnemo-test'], [7, graph], [8, message([[1, ''], [2, 13]])]]);
}

// ---- the folder ----

function tokenizerJson(vocab: Map<string, number>): unknown {
  const special = (content: string) => ({ id: vocab.get(content)!, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const cls = { SpecialToken: { id: '[CLS]', type_id: 0 } };
  const sep = { SpecialToken: { id: '[SEP]', type_id: 0 } };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map(special),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [cls, { Sequence: { id: 'A', type_id: 0 } }, sep],
      pair: [cls, { Sequence: { id: 'A', type_id: 0 } }, sep, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [vocab.get('[CLS]')], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [vocab.get('[SEP]')], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(vocab) },
  };
}

/** Writes the folder and returns its path (`<parent>/tiny-MiniLM`). */
export function writeTinyModel(parent: string): string {
  const dir = join(parent, 'tiny-MiniLM');
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  const vocab = tinyVocab();
  const table = [...vocab.keys()].flatMap(tinyRow);
  writeFileSync(join(dir, 'onnx', 'model.onnx'), modelBytes(vocab.size, table));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson(vocab)));
  writeFileSync(
    join(dir, 'tokenizer_config.json'),
    JSON.stringify({ tokenizer_class: 'BertTokenizer', do_lower_case: true, model_max_length: 512, cls_token: '[CLS]', sep_token: '[SEP]', pad_token: '[PAD]', unk_token: '[UNK]', mask_token: '[MASK]' }),
  );
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({ model_type: 'bert', architectures: ['BertModel'], hidden_size: tinyDim, vocab_size: vocab.size, max_position_embeddings: 512, type_vocab_size: 2, num_attention_heads: 1, num_hidden_layers: 0 }),
  );
  return dir;
}
