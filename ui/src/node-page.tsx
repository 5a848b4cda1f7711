// `#/node/<id>?as_of=<seq>`: one node as of one point of history: its properties, its vector's
// text, its timeline, and its neighbourhood drawn as a graph and listed as text beside it.

import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, api, isAbort, messageOf, nameOf, type DiffResult, type HistoryEvent, type Json, type NodeRecord } from './api.js';
import { colourOf } from './colours.js';
import { formatTime } from './format.js';
import { GraphView } from './graph-view.js';
import { Neighbourhood, edgesFromHistory, graphNodesMax } from './neighbourhood.js';
import { navigate, nodeHref } from './route.js';
import { TimeSlider } from './time-slider.js';

/** Timeline rows shown; a node touched by thousands of edges lists its newest events. */
const timelineRowsMax = 200;

declare global {
  interface Window {
    /** The drawn graph, for poking at from the browser console (and for the browser tests). */
    mnemoInspector?: { graph: GraphView['cy'] };
  }
}

interface Loaded {
  history: HistoryEvent[];
  lastSeq: number;
  /** Every relation the memory has or the node's history names, sorted by name (the filter menu). */
  relations: string[];
  /** The memory's relations, most used first. */
  busiestRelations: string[];
}

export function NodePage({ id, asOf }: { id: string; asOf: number | null }) {
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const abort = new AbortController();
    setLoaded(null);
    setError(null);
    Promise.all([api.history(id, abort.signal), api.stats(abort.signal)]).then(
      ([history, stats]) => {
        const relations = new Set(Object.keys(stats.edges_by_relation));
        for (const edge of edgesFromHistory(history.events, null)) relations.add(edge.relation);
        const busiestRelations = Object.entries(stats.edges_by_relation)
          .sort(([, a], [, b]) => b - a)
          .map(([relation]) => relation);
        setLoaded({ history: history.events, lastSeq: stats.last_seq, relations: [...relations].sort(), busiestRelations });
      },
      (e: unknown) => {
        if (!isAbort(e)) setError(messageOf(e));
      },
    );
    return () => abort.abort();
  }, [id]);

  if (error !== null) return <p class="error">Could not load {id}: {error}</p>;
  if (loaded === null) return <p class="loading">Loading {id}…</p>;
  if (loaded.history.length === 0) return <p class="error">No node has the id {id}, now or ever.</p>;
  return <NodeAt id={id} asOf={asOf} loaded={loaded} />;
}

function NodeAt({ id, asOf, loaded }: { id: string; asOf: number | null; loaded: Loaded }) {
  const [node, setNode] = useState<NodeRecord | null | 'missing'>(null);
  const [relation, setRelation] = useState('');
  const [model, setModel] = useState<Neighbourhood | null>(null);
  const [, setRevision] = useState(0);
  const [graphError, setGraphError] = useState<string | null>(null);
  const [diff, setDiff] = useState<DiffResult | null>(null);
  const container = useRef<HTMLDivElement>(null);
  const view = useRef<GraphView | null>(null);
  const modelRef = useRef<Neighbourhood | null>(null);
  const busy = useRef(false);
  // The canvas outlives slider moves (keeping pan and zoom); its double-click reads the current point.
  const asOfRef = useRef(asOf);
  asOfRef.current = asOf;

  const redraw = useCallback((next: Neighbourhood) => {
    view.current?.draw(next);
    setRevision((r) => r + 1);
  }, []);

  const expand = useCallback(
    (target: string) => {
      const current = modelRef.current;
      if (current === null || busy.current || !current.canExpand(target)) return;
      busy.current = true;
      current
        .expand(target)
        .then(
          () => {
            redraw(current);
            view.current?.fitIfHidden();
          },
          (e: unknown) => setGraphError(messageOf(e)),
        )
        .finally(() => (busy.current = false));
    },
    [redraw],
  );

  useEffect(() => {
    if (container.current === null) return;
    const graph = new GraphView(container.current, { expand, open: (target) => navigate({ page: 'node', id: target, asOf: asOfRef.current }) });
    view.current = graph;
    window.mnemoInspector = { graph: graph.cy };
    return () => {
      graph.destroy();
      view.current = null;
      delete window.mnemoInspector;
    };
  }, [expand]);

  useEffect(() => {
    const abort = new AbortController();
    setGraphError(null);
    api.node(id, asOf ?? undefined, abort.signal).then(
      async (record) => {
        setNode(record);
        const next = new Neighbourhood(record, asOf, relation, edgesFromHistory(loaded.history, asOf), loaded.busiestRelations);
        modelRef.current = next;
        busy.current = true;
        try {
          await next.expand(record.id, abort.signal);
        } finally {
          busy.current = false;
        }
        if (abort.signal.aborted) return;
        setModel(next);
        redraw(next);
        view.current?.fit();
      },
      (e: unknown) => {
        if (isAbort(e)) return;
        if (e instanceof ApiError && e.status === 404) {
          setNode('missing');
          modelRef.current = null;
          setModel(null);
          view.current?.cy.elements().remove();
        } else setGraphError(messageOf(e));
      },
    );
    return () => abort.abort();
  }, [id, asOf, relation, loaded, redraw]);

  useEffect(() => {
    if (asOf === null) {
      setDiff(null);
      return;
    }
    const abort = new AbortController();
    api.diff(asOf, loaded.lastSeq, abort.signal).then(setDiff, (e: unknown) => {
      if (!isAbort(e)) setDiff(null);
    });
    return () => abort.abort();
  }, [asOf, loaded.lastSeq]);

  const firstSeq = loaded.history[0]!.seq;
  const deletedAt = loaded.history.find((e) => e.type === 'prime.node.deleted')?.seq;
  const record = node === 'missing' || node === null ? null : node;
  return (
    <div class="node-page">
      <header class="node-header">
        <h1 data-testid="node-name">{record !== null ? nameOf(record) : id}</h1>
        <p class="muted">
          <code>{id}</code>
          {record !== null && (
            <>
              {' '}· <span class="domain" style={{ background: colourOf(record.domain) }}>{record.domain}</span> · version {record.version}
            </>
          )}
        </p>
        {node === 'missing' && (
          <p class="warning">
            This node does not exist {asOf === null ? 'now' : `at seq ${asOf}`}
            {deletedAt !== undefined && asOf === null ? (
              <>
                {' '}(deleted at seq {deletedAt}; <a href={nodeHref(id, deletedAt - 1)}>see it just before</a>)
              </>
            ) : null}
            .
          </p>
        )}
      </header>
      <TimeSlider
        firstSeq={firstSeq}
        lastSeq={loaded.lastSeq}
        asOf={asOf}
        history={loaded.history}
        onChange={(seq) => navigate({ page: 'node', id, asOf: seq }, true)}
      />
      {diff !== null && <DiffLine diff={diff} />}
      <div class="node-body">
        <section class="graph-panel">
          <div class="graph-toolbar">
            <label>
              relation{' '}
              <select value={relation} onChange={(e) => setRelation((e.target as HTMLSelectElement).value)} data-testid="relation-filter">
                <option value="">all</option>
                {loaded.relations.map((r) => (
                  <option value={r}>{r}</option>
                ))}
              </select>
            </label>
            <button type="button" onClick={() => view.current?.fit()}>
              fit
            </button>
            <span class="muted" data-testid="drawn-count">
              {model === null ? 0 : model.nodes.size} nodes drawn (at most {graphNodesMax})
            </span>
            <span class="muted hint">click a node to expand it, double-click to open it</span>
          </div>
          <div class="graph" ref={container} data-testid="graph" />
          {graphError !== null && <p class="error">{graphError}</p>}
          {model !== null && <Legend model={model} />}
        </section>
        <aside class="side">
          {model !== null && <NeighbourList model={model} asOf={asOf} onExpand={expand} />}
          {record !== null && <PropertiesTable node={record} />}
          <VectorText history={loaded.history} asOf={asOf} />
          <Timeline history={loaded.history} asOf={asOf} names={model} onPick={(seq) => navigate({ page: 'node', id, asOf: seq }, true)} />
        </aside>
      </div>
    </div>
  );
}

function DiffLine({ diff }: { diff: DiffResult }) {
  const n = diff.nodes;
  const e = diff.edges;
  return (
    <p class="muted" data-testid="diff">
      From seq {diff.from} to now (seq {diff.to}): {n.added.length} nodes added, {n.updated.length} updated, {n.deleted.length} deleted; {e.added.length}{' '}
      edges added, {e.deleted.length} deleted.
    </p>
  );
}

function Legend({ model }: { model: Neighbourhood }) {
  const domains = useMemo(() => [...new Set([...model.nodes.values()].map((n) => n.record.domain))].sort(), [model, model.nodes.size]);
  return (
    <p class="legend">
      {domains.map((d) => (
        <span class="domain" style={{ background: colourOf(d) }}>
          {d}
        </span>
      ))}
      {model.full && <span class="warning"> The graph is full ({graphNodesMax} nodes): open a node to explore from there.</span>}
    </p>
  );
}

function NeighbourList({ model, asOf, onExpand }: { model: Neighbourhood; asOf: number | null; onExpand: (id: string) => void }) {
  const focus = model.focus.id;
  const drawn = [...model.nodes.values()].filter((n) => n.record.id !== focus);
  const directRelations = (other: string): string => {
    const labels: string[] = [];
    for (const edge of model.edges.values()) {
      if (edge.source === focus && edge.target === other) labels.push(`→ ${edge.relations.join(', ') || 'out'}`);
      if (edge.target === focus && edge.source === other) labels.push(`← ${edge.relations.join(', ') || 'in'}`);
    }
    return labels.join(' · ');
  };
  const viaName = (parent: string | undefined): string => nameOf(parent === undefined ? null : model.nodes.get(parent)?.record, parent ?? '');
  const hidden = model.hiddenCount(focus);
  return (
    <section>
      <h2>Neighbourhood</h2>
      {drawn.length === 0 && <p class="muted">No neighbours{model.relation === '' ? '' : ` through ${model.relation}`}.</p>}
      <ul class="neighbours" data-testid="neighbours">
        {drawn.map((n) => (
          <li>
            <span class="dot" style={{ background: colourOf(n.record.domain) }} />
            <a href={nodeHref(n.record.id, asOf)}>{nameOf(n.record)}</a> <span class="muted">{n.hop === 1 ? directRelations(n.record.id) : `${n.hop} hops, via ${viaName(n.parent)}`}</span>
            {model.canExpand(n.record.id) && (
              <button type="button" class="link" onClick={() => onExpand(n.record.id)}>
                expand
              </button>
            )}
          </li>
        ))}
      </ul>
      {hidden > 0 && (
        <p>
          {hidden} more neighbours not drawn.{' '}
          {model.canExpand(focus) && (
            <button type="button" onClick={() => onExpand(focus)}>
              draw more
            </button>
          )}
        </p>
      )}
    </section>
  );
}

function PropertiesTable({ node }: { node: NodeRecord }) {
  const entries = Object.entries(node.properties);
  return (
    <section>
      <h2>Properties</h2>
      <table class="properties" data-testid="properties">
        <tbody>
          {entries.map(([key, value]) => (
            <tr>
              <th>{key}</th>
              <td>{display(value)}</td>
            </tr>
          ))}
          <tr class="muted">
            <th>type</th>
            <td>{node.type}</td>
          </tr>
          <tr class="muted">
            <th>created</th>
            <td>{formatTime(node.created_at)}</td>
          </tr>
          <tr class="muted">
            <th>updated</th>
            <td>{formatTime(node.updated_at)}</td>
          </tr>
        </tbody>
      </table>
    </section>
  );
}

function VectorText({ history, asOf }: { history: HistoryEvent[]; asOf: number | null }) {
  let stored: HistoryEvent | null = null;
  for (const event of history) {
    if (asOf !== null && event.seq > asOf) break;
    if (event.type === 'prime.vector.stored') stored = event;
    if (event.type === 'prime.vector.deleted' || event.type === 'prime.node.deleted') stored = null;
  }
  if (stored === null) return null;
  const { text, vector, metadata } = stored.payload;
  return (
    <section>
      <h2>Vector</h2>
      <p data-testid="vector-text">{typeof text === 'string' ? text : <span class="muted">(stored without text)</span>}</p>
      <p class="muted">
        {Array.isArray(vector) ? `${vector.length} dimensions` : ''} · stored at seq {stored.seq}
        {metadata !== undefined && metadata !== null ? ` · metadata ${JSON.stringify(metadata)}` : ''}
      </p>
    </section>
  );
}

function Timeline({ history, asOf, names, onPick }: { history: HistoryEvent[]; asOf: number | null; names: Neighbourhood | null; onPick: (seq: number) => void }) {
  const nameOfId = (id: Json | undefined): string => {
    const drawn = typeof id === 'string' ? names?.nodes.get(id) : undefined;
    return drawn === undefined ? String(id) : nameOf(drawn.record);
  };
  const shown = history.slice(-timelineRowsMax).reverse();
  return (
    <section>
      <h2>History ({history.length} events)</h2>
      <ol class="timeline" data-testid="timeline">
        {shown.map((event) => (
          <li class={asOf !== null && event.seq > asOf ? 'later' : asOf === event.seq ? 'current' : ''}>
            <button type="button" class="link" onClick={() => onPick(event.seq)} title="see the memory as of this event">
              seq {event.seq}
            </button>{' '}
            <span class="muted">{formatTime(event.ts)}</span> <strong>{event.type.replace(/^prime\./, '')}</strong> {summary(event, nameOfId)}
          </li>
        ))}
      </ol>
      {history.length > shown.length && <p class="muted">{history.length - shown.length} earlier events not listed.</p>}
    </section>
  );
}

function summary(event: HistoryEvent, nameOfId: (id: Json | undefined) => string): string {
  const p = event.payload;
  switch (event.type) {
    case 'prime.node.created':
    case 'prime.node.updated':
      return typeof p.properties === 'object' && p.properties !== null ? compact(p.properties) : '';
    case 'prime.edge.created':
      return `${nameOfId(p.source)} —${String(p.relation)}→ ${nameOfId(p.target)}`;
    case 'prime.vector.stored':
      return typeof p.text === 'string' ? `“${p.text}”` : '';
    default:
      return p.id;
  }
}

/** A short one-line rendering of a property object for the timeline. */
function compact(value: Json): string {
  const text = JSON.stringify(value);
  return text.length > 160 ? `${text.slice(0, 159)}…` : text;
}

function display(value: Json): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
