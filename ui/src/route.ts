// Pages live in the URL's fragment (`/ui#/node/<id>?as_of=12`), so the server serves one page
// and a link to any view can be bookmarked or pasted.

import { useEffect, useState } from 'preact/hooks';

export type View =
  | { page: 'search'; mode: SearchMode; q: string }
  | { page: 'node'; id: string; asOf: number | null }
  | { page: 'health' };

export type SearchMode = 'text' | 'domain' | 'id';
const searchModes: readonly SearchMode[] = ['text', 'domain', 'id'];

export function parseHash(hash: string): View {
  const text = hash.replace(/^#/, '');
  const [path = '', search = ''] = splitOnce(text, '?');
  const params = new URLSearchParams(search);
  if (path.startsWith('/node/')) {
    const asOf = Number(params.get('as_of'));
    return { page: 'node', id: decodeOrRaw(path.slice('/node/'.length)), asOf: params.has('as_of') && Number.isInteger(asOf) && asOf > 0 ? asOf : null };
  }
  if (path === '/health') return { page: 'health' };
  const mode = params.get('mode') as SearchMode | null;
  return { page: 'search', mode: mode !== null && searchModes.includes(mode) ? mode : 'text', q: params.get('q') ?? '' };
}

export function hrefOf(view: View): string {
  switch (view.page) {
    case 'node':
      return `#/node/${encodeURIComponent(view.id)}${view.asOf === null ? '' : `?as_of=${view.asOf}`}`;
    case 'health':
      return '#/health';
    case 'search':
      return view.q === '' ? '#/' : `#/search?${new URLSearchParams({ mode: view.mode, q: view.q }).toString()}`;
  }
}

export function nodeHref(id: string, asOf: number | null = null): string {
  return hrefOf({ page: 'node', id, asOf });
}

export function navigate(view: View, replace = false): void {
  const href = hrefOf(view);
  if (replace) history.replaceState(null, '', href);
  else location.hash = href;
  if (replace) window.dispatchEvent(new HashChangeEvent('hashchange'));
}

export function useView(): View {
  const [view, setView] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const update = () => setView(parseHash(location.hash));
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return view;
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + 1)];
}

/** A hand-typed address may hold a lone `%`; it is then taken as it is rather than breaking the page. */
function decodeOrRaw(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
