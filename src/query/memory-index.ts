// prime_index and prime_context: what the memory holds, compressed into markdown that fits a
// token budget, so an agent can put it in its system prompt and know which domains exist and how
// they link before it asks (cross-references are what a flat k-NN answer misses).
//
// Tokens are estimated, not counted with a model's tokenizer (which differ by model): each run of
// letters counts ceil(length / 4) tokens (at least one), each run of digits ceil(length / 3), and
// every other non-space character one. On English prose and on this index's markdown that is at
// or above what BPE tokenizers such as cl100k count, so a budget met by the estimate is met in fact.

import type { MemoryIndex, NodeRecord, PromptContext, RecallHit } from '../kernel/api.js';

export interface DomainSummary {
  domain: string;
  nodes: number;
  /** Node types among the sampled nodes, with counts. */
  types: Map<string, number>;
  /** Names (`name`, else `title`) of the first sampled nodes that have one. */
  examples: string[];
}

export interface LinkSummary {
  from: string;
  to: string;
  relation: string;
  count: number;
}

export interface MemoryOverview {
  seq: number;
  totalNodes: number;
  totalEdges: number;
  domains: DomainSummary[];
  links: LinkSummary[];
}

/** Example names shown per domain. */
const examplesPerDomain = 3;
/** Characters of one example name or property value shown. */
const exampleCharsMax = 40;
/** Share of the budget the domains may take before the links get theirs (both must show in a small budget). */
const domainsBudgetShare = 0.6;
/** Share of prime_context's budget given to the index; the rest holds the recall hits. */
const contextIndexShare = 0.4;
/** Properties of a hit shown in prime_context. */
const hitPropertiesMax = 4;

export function estimateTokens(text: string): number {
  let tokens = 0;
  for (const match of text.matchAll(/[\p{L}]+|\p{N}+|[^\s\p{L}\p{N}]/gu)) {
    const piece = match[0];
    if (/^\p{L}/u.test(piece)) tokens += Math.max(1, Math.ceil(piece.length / 4));
    else if (/^\p{N}/u.test(piece)) tokens += Math.max(1, Math.ceil(piece.length / 3));
    else tokens += 1;
  }
  return tokens;
}

/** Lines added while they fit a budget; a line costs its tokens plus one for its newline. */
class Budget {
  used = 0;
  constructor(readonly max: number) {}
  fits(line: string, reserve = 0): boolean {
    return this.used + estimateTokens(line) + 1 + reserve <= this.max;
  }
  take(lines: string[], line: string, reserve = 0): boolean {
    if (!this.fits(line, reserve)) return false;
    this.used += estimateTokens(line) + 1;
    lines.push(line);
    return true;
  }
}

function clip(text: string, max = exampleCharsMax): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

function domainLine(d: DomainSummary, withExamples: boolean): string {
  const types = [...d.types.entries()].sort((a, b) => b[1] - a[1]);
  const typeText = types.length === 1 && types[0]![0] === d.domain ? '' : `; types: ${types.map(([t, n]) => `${t} ${n}`).join(', ')}`;
  const examples = withExamples && d.examples.length > 0 ? ` e.g. ${d.examples.map((e) => clip(e)).join('; ')}` : '';
  return `- ${d.domain} (${d.nodes} nodes${typeText})${examples}`;
}

function linkLine(l: LinkSummary): string {
  return `- ${l.from} -[${l.relation}]-> ${l.to}: ${l.count}`;
}

/** Fills `lines` from `items` while they fit, then a "… N more" line if that fits. */
function fill<T>(budget: Budget, lines: string[], items: readonly T[], render: (item: T) => string[], more: (n: number) => string, cap: number): number {
  const moreReserve = estimateTokens(more(items.length)) + 1;
  let shown = 0;
  for (const item of items) {
    if (budget.used >= cap) break;
    const line = render(item).find((candidate) => budget.fits(candidate, moreReserve) && budget.used + estimateTokens(candidate) + 1 <= cap);
    if (line === undefined) break;
    budget.take(lines, line);
    shown++;
  }
  if (shown < items.length) budget.take(lines, more(items.length - shown));
  return items.length - shown;
}

/** The index markdown within `maxTokens` (estimated): header, then domains by size, then links by count; what does not fit is counted in a "… N more" line. */
export function renderMemoryIndex(overview: MemoryOverview, maxTokens: number): MemoryIndex {
  const budget = new Budget(maxTokens);
  const head: string[] = [];
  budget.take(head, `# Memory index (seq ${overview.seq}: ${overview.totalNodes} nodes, ${overview.totalEdges} edges, ${overview.domains.length} domains)`);
  const domains = [...overview.domains].sort((a, b) => b.nodes - a.nodes || (a.domain < b.domain ? -1 : 1));
  const links = [...overview.links].sort((a, b) => b.count - a.count || (linkLine(a) < linkLine(b) ? -1 : 1));
  const domainLines: string[] = [];
  const linkLines: string[] = [];
  let left = 0;
  if (domains.length > 0 && budget.take(domainLines, '## Domains')) {
    const cap = links.length > 0 ? Math.floor(maxTokens * domainsBudgetShare) : maxTokens;
    left += fill(budget, domainLines, domains, (d) => [domainLine(d, true), domainLine(d, false)], (n) => `- … ${n} more domains`, cap);
  }
  if (links.length > 0 && budget.take(linkLines, '## Links between domains (edges)')) {
    left += fill(budget, linkLines, links, (l) => [linkLine(l)], (n) => `- … ${n} more links`, maxTokens);
  } else left += links.length;
  const markdown = [...head, ...domainLines, ...linkLines].join('\n');
  return { markdown, tokens: budget.used, maxTokens, truncated: left > 0 };
}

function nameOf(node: NodeRecord | null): string | undefined {
  const value = node?.properties['name'] ?? node?.properties['title'];
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

function hitLine(hit: RecallHit): string {
  const node = hit.node;
  const name = nameOf(node);
  const props = node === null ? [] : Object.entries(node.properties).filter(([k]) => k !== 'name' && k !== 'title').slice(0, hitPropertiesMax);
  const propText = props.map(([k, v]) => `${k}: ${clip(typeof v === 'string' ? v : JSON.stringify(v), 120)}`).join('; ');
  const label = name === undefined ? hit.id : `${clip(name, 80)} (${hit.id})`;
  return `- ${label} [${node?.type ?? 'vector'}, score ${hit.score.toFixed(2)}${hit.depth > 0 ? `, ${hit.depth} hop${hit.depth > 1 ? 's' : ''}` : ''}]${propText ? ` ${propText}` : ''}`;
}

/** The index (within its share of the budget) and then the recall hits, best first, while they fit. */
export function renderPromptContext(overview: MemoryOverview, query: string, hits: RecallHit[], degraded: boolean, maxTokens: number): PromptContext {
  const index = renderMemoryIndex(overview, Math.floor(maxTokens * contextIndexShare));
  const budget = new Budget(maxTokens);
  budget.used = index.tokens;
  const lines: string[] = [];
  budget.take(lines, `## Recalled for "${clip(query, 120)}"${degraded ? ' (text match only: the embedder did not answer)' : ''}`);
  const shown: RecallHit[] = [];
  for (const hit of hits) {
    if (!budget.take(lines, hitLine(hit), 0)) break;
    shown.push(hit);
  }
  if (shown.length === 0 && hits.length === 0) budget.take(lines, '- nothing matched');
  const markdown = [index.markdown, ...lines].join('\n');
  return { markdown, tokens: budget.used, maxTokens, hits: shown, degraded };
}

/** A node's display name (`name`, else `title`), if it has one. */
export function exampleName(node: NodeRecord | null | undefined): string | undefined {
  return nameOf(node ?? null);
}

export { examplesPerDomain };
