// `#/` and `#/search?mode=text|domain|id&q=…`: find a node by words (BM25 through recall, or the
// embedder when the server has one), by domain (paged), or by id; and list the domains, and the
// links between two of them.

import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, isAbort, messageOf, nameOf, type CrossDomainPage, type NodeRecord, type Stats } from './api.js';
import { colourOf } from './colours.js';
import { navigate, nodeHref, type SearchMode } from './route.js';

/** Text hits asked for; recall ranks them, so the first screenful is what matters. */
const textHitsMax = 20;
/** Nodes per page when listing a domain, and links per page between two domains. */
const listPageSize = 25;

interface Hit {
  node: NodeRecord;
  note?: string;
}

interface Results {
  hits: Hit[];
  total?: number;
  nextOffset?: number;
}

export function SearchPage({ mode, q }: { mode: SearchMode; q: string }) {
  const [input, setInput] = useState(q);
  const [chosenMode, setChosenMode] = useState<SearchMode>(mode);
  const [results, setResults] = useState<Results | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [stats, setStats] = useState<Stats | null>(null);

  useEffect(() => {
    setInput(q);
    setChosenMode(mode);
  }, [mode, q]);

  useEffect(() => {
    const abort = new AbortController();
    api.stats(abort.signal).then(setStats, (e: unknown) => {
      if (!isAbort(e)) setError(messageOf(e));
    });
    return () => abort.abort();
  }, []);

  useEffect(() => {
    setResults(null);
    setError(null);
    if (q === '') return;
    let current = true;
    run(mode, q, 0).then(
      (found) => {
        if (current) setResults(found);
      },
      (e: unknown) => {
        if (current) setError(messageOf(e));
      },
    );
    return () => {
      current = false;
    };
  }, [mode, q]);

  const more = () => {
    if (results?.nextOffset === undefined) return;
    run(mode, q, results.nextOffset).then(
      (page) => setResults({ ...page, hits: [...results.hits, ...page.hits] }),
      (e: unknown) => setError(messageOf(e)),
    );
  };

  return (
    <div class="search">
      <form
        class="search-form"
        onSubmit={(e) => {
          e.preventDefault();
          const text = input.trim();
          navigate({ page: 'search', mode: text.startsWith('node:') && chosenMode === 'text' ? 'id' : chosenMode, q: text });
        }}
      >
        <select value={chosenMode} onChange={(e) => setChosenMode((e.target as HTMLSelectElement).value as SearchMode)} aria-label="search by" data-testid="search-mode">
          <option value="text">text</option>
          <option value="domain">domain</option>
          <option value="id">id</option>
        </select>
        <input type="search" value={input} onInput={(e) => setInput((e.target as HTMLInputElement).value)} placeholder="words, a domain, or a node id" data-testid="search-input" />
        <button type="submit">search</button>
      </form>
      {error !== null && <p class="error">{error}</p>}
      {results !== null && (
        <section>
          <h2>
            {results.hits.length === 0 ? 'Nothing found' : `${results.total ?? results.hits.length} found`} for {mode} “{q}”
          </h2>
          <ul class="results" data-testid="results">
            {results.hits.map(({ node, note }) => (
              <li>
                <span class="dot" style={{ background: colourOf(node.domain) }} />
                <a href={nodeHref(node.id)}>{nameOf(node)}</a> <span class="muted">{node.domain}</span> {note !== undefined && <span class="muted">· {note}</span>}
              </li>
            ))}
          </ul>
          {results.nextOffset !== undefined && (
            <button type="button" onClick={more}>
              next {listPageSize}
            </button>
          )}
        </section>
      )}
      {stats !== null && <Domains stats={stats} />}
    </div>
  );
}

async function run(mode: SearchMode, q: string, offset: number): Promise<Results> {
  if (mode === 'id') {
    try {
      const node = await api.node(q);
      // An exact id needs no list: open it.
      navigate({ page: 'node', id: node.id, asOf: null }, true);
      return { hits: [{ node }] };
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return { hits: [] };
      throw e;
    }
  }
  if (mode === 'domain') {
    const page = await api.searchDomain(q, listPageSize, offset);
    return { hits: page.nodes.map((node) => ({ node })), total: page.total, ...(page.next_offset === undefined ? {} : { nextOffset: page.next_offset }) };
  }
  const { results } = await api.recallText(q, textHitsMax);
  const hits: Hit[] = [];
  for (const hit of results) if (hit.node !== null) hits.push({ node: hit.node, note: `score ${hit.score.toFixed(3)}${hit.retrieval === undefined ? '' : ` (${hit.retrieval.join(', ')})`}` });
  return { hits };
}

function Domains({ stats }: { stats: Stats }) {
  const domains = Object.entries(stats.nodes_by_type).sort(([, a], [, b]) => b - a);
  const [a, setA] = useState('');
  const [b, setB] = useState('');
  const [links, setLinks] = useState<CrossDomainPage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const find = () => {
    setError(null);
    api.crossDomain(a, b, listPageSize).then(setLinks, (e: unknown) => setError(messageOf(e)));
  };
  return (
    <section>
      <h2>
        Domains <span class="muted">({stats.total_nodes} nodes, {stats.total_edges} edges, {stats.total_vectors} vectors)</span>
      </h2>
      <p class="domains">
        {domains.map(([domain, count]) => (
          <a class="domain" style={{ background: colourOf(domain) }} href={`#/search?${new URLSearchParams({ mode: 'domain', q: domain }).toString()}`}>
            {domain} {count}
          </a>
        ))}
      </p>
      <h2>Links between two domains</h2>
      <p>
        <select value={a} onChange={(e) => setA((e.target as HTMLSelectElement).value)} aria-label="first domain">
          <option value="">domain…</option>
          {domains.map(([d]) => (
            <option value={d}>{d}</option>
          ))}
        </select>{' '}
        ↔{' '}
        <select value={b} onChange={(e) => setB((e.target as HTMLSelectElement).value)} aria-label="second domain">
          <option value="">domain…</option>
          {domains.map(([d]) => (
            <option value={d}>{d}</option>
          ))}
        </select>{' '}
        <button type="button" disabled={a === '' || b === ''} onClick={find}>
          find links
        </button>
      </p>
      {error !== null && <p class="error">{error}</p>}
      {links !== null && (
        <>
          <p class="muted">
            {links.total} links{links.total > links.returned ? `, the first ${links.returned} listed` : ''}
          </p>
          <ul class="results">
            {links.edges.map((edge) => (
              <li>
                <a href={nodeHref(edge.source)}>{edge.source}</a> —{edge.relation}→ <a href={nodeHref(edge.target)}>{edge.target}</a>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
