// The page's only door to the server: the ordinary HTTP API, same origin, JSON in snake_case.
// Every call is bounded (a page size, a top_k); nothing here asks for the whole memory.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Properties = Record<string, Json>;

export interface NodeRecord {
  id: string;
  type: string;
  domain: string;
  properties: Properties;
  created_at: number;
  updated_at: number;
  version: number;
}

export interface Page<T> {
  nodes: T[];
  total: number;
  returned: number;
  offset: number;
  next_offset?: number;
}

export interface HistoryEvent {
  seq: number;
  ts: number;
  type: string;
  payload: { id: string; [key: string]: Json };
}

export interface RecallHit {
  id: string;
  node: NodeRecord | null;
  score: number;
  depth: number;
  retrieval?: string[];
}

export interface CrossDomainPage {
  edges: Array<{ id: string; source: string; target: string; relation: string }>;
  total: number;
  returned: number;
  offset: number;
  next_offset?: number;
}

export interface DiffResult {
  from: number;
  to: number;
  nodes: { added: string[]; updated: string[]; deleted: string[] };
  edges: { added: string[]; deleted: string[] };
}

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** The fields of /stats the page reads; everything else is shown as it comes, or ignored. */
export interface Stats {
  total_nodes: number;
  total_edges: number;
  total_vectors: number;
  nodes_by_type: Record<string, number>;
  edges_by_relation: Record<string, number>;
  event_count: number;
  last_seq: number;
  vectors_pending: number;
  wal?: { segments?: number; bytes?: number; durability?: string; last_fsync_at?: number | null };
  checkpoint?: { seq?: number; age_ms?: number | null };
  compaction?: { parquet_files?: number; parquet_bytes?: number; parquet_rows?: number };
  memory?: { rss_bytes?: number; heap_used_bytes?: number };
  uptime_s?: number;
  http?: { requests?: number; in_flight?: number };
  latency_us?: Record<string, LatencySummary>;
  replication?: { lag_ms?: number | null; connected?: boolean; origin?: string; publish_backlog?: number } | null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const prime = '/api/v1/prime';

/**
 * Where the page keeps the server's API key (MNEMO_API_KEY) once the reader gave it: this tab
 * only, gone when it closes. The content policy lets no other script run in the page to read it.
 */
const apiKeyStorageKey = 'mnemo.apiKey';
/** Dispatched on window when the server wants a key the page does not have (or has wrong). */
export const unauthorizedEvent = 'mnemo:unauthorized';

export function setApiKey(key: string): void {
  sessionStorage.setItem(apiKeyStorageKey, key);
}

async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  const key = sessionStorage.getItem(apiKeyStorageKey);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const response = await fetch(path, { ...init, headers });
  const text = await response.text();
  const body = text === '' ? null : (JSON.parse(text) as unknown);
  if (!response.ok) {
    const error = (body ?? {}) as { error?: string; code?: string };
    if (response.status === 401) window.dispatchEvent(new Event(unauthorizedEvent));
    throw new ApiError(response.status, error.code ?? 'HTTP', error.error ?? `${response.status} ${response.statusText}`);
  }
  return body as T;
}

function query(parameters: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(parameters)) if (value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

const nodePath = (id: string): string => `${prime}/nodes/${encodeURIComponent(id)}`;

export const api = {
  node: (id: string, asOf?: number, signal?: AbortSignal) => request<NodeRecord>(`${nodePath(id)}${query({ as_of: asOf })}`, { signal }),
  neighbors: (
    id: string,
    options: { direction: 'out' | 'in' | 'both'; relation?: string; limit: number; offset?: number; asOf?: number },
    signal?: AbortSignal,
  ) =>
    request<Page<NodeRecord>>(
      `${nodePath(id)}/neighbors${query({ direction: options.direction, relation: options.relation, limit: options.limit, offset: options.offset, as_of: options.asOf })}`,
      { signal },
    ),
  history: (id: string, signal?: AbortSignal) => request<{ events: HistoryEvent[] }>(`${nodePath(id)}/history`, { signal }),
  searchDomain: (domain: string, limit: number, offset = 0) => request<Page<NodeRecord>>(`${prime}/search${query({ type: domain, limit, offset })}`),
  recallText: (text: string, topK: number) =>
    request<{ results: RecallHit[] }>(`${prime}/recall`, { method: 'POST', body: JSON.stringify({ text, top_k: topK, depth: 0 }) }),
  crossDomain: (a: string, b: string, limit: number, offset = 0) => request<CrossDomainPage>(`${prime}/cross-domain${query({ a, b, limit, offset })}`),
  diff: (from: number, to: number, signal?: AbortSignal) => request<DiffResult>(`${prime}/diff${query({ from, to })}`, { signal }),
  stats: (signal?: AbortSignal) => request<Stats>(`${prime}/stats`, { signal }),
};

/** What people call a node: its name, title or label when it has one, else its id. */
export function nameOf(node: { id: string; properties?: Properties } | null | undefined, fallback = ''): string {
  if (node === null || node === undefined) return fallback;
  for (const key of ['name', 'title', 'label', 'text']) {
    const value = node.properties?.[key];
    if (typeof value === 'string' && value.trim() !== '') return value;
  }
  return node.id;
}

export function isAbort(e: unknown): boolean {
  return e instanceof DOMException && e.name === 'AbortError';
}

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
