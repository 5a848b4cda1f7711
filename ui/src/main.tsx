// The web inspector: one page, three views chosen by the URL's fragment (search, a node, health).

import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { setApiKey, unauthorizedEvent } from './api.js';
import { HealthPage } from './health-page.js';
import { NodePage } from './node-page.js';
import { hrefOf, useView } from './route.js';
import { SearchPage } from './search-page.js';
import './styles.css';

function App() {
  const view = useView();
  const [needsKey, setNeedsKey] = useState(false);
  useEffect(() => {
    const ask = () => setNeedsKey(true);
    window.addEventListener(unauthorizedEvent, ask);
    return () => window.removeEventListener(unauthorizedEvent, ask);
  }, []);
  return (
    <>
      {needsKey && <KeyForm />}
      <nav class="top">
        <a class="brand" href="#/">
          mnemo inspector
        </a>
        <a href={hrefOf({ page: 'search', mode: 'text', q: '' })} class={view.page === 'search' ? 'active' : ''}>
          search
        </a>
        <a href="#/health" class={view.page === 'health' ? 'active' : ''}>
          health
        </a>
      </nav>
      <main>
        {view.page === 'node' && <NodePage key={view.id} id={view.id} asOf={view.asOf} />}
        {view.page === 'search' && <SearchPage mode={view.mode} q={view.q} />}
        {view.page === 'health' && <HealthPage />}
      </main>
    </>
  );
}

/** Shown when the server answers 401: it was started with MNEMO_API_KEY. */
function KeyForm() {
  const [key, setKey] = useState('');
  return (
    <form
      class="key-form"
      onSubmit={(e) => {
        e.preventDefault();
        setApiKey(key.trim());
        location.reload();
      }}
    >
      This server needs its API key (it was started with MNEMO_API_KEY).{' '}
      <input type="password" value={key} onInput={(e) => setKey((e.target as HTMLInputElement).value)} aria-label="API key" data-testid="api-key" autocomplete="off" />{' '}
      <button type="submit">use it</button> <span class="muted">kept in this tab only</span>
    </form>
  );
}

const root = document.getElementById('app');
if (root === null) throw new Error('the page has no #app element');
root.textContent = '';
render(<App />, root);
