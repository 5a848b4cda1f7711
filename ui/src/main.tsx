// The web inspector: one page, three views chosen by the URL's fragment (search, a node, health).

import { render } from 'preact';
import { HealthPage } from './health-page.js';
import { NodePage } from './node-page.js';
import { hrefOf, useView } from './route.js';
import { SearchPage } from './search-page.js';
import './styles.css';

function App() {
  const view = useView();
  return (
    <>
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

const root = document.getElementById('app');
if (root === null) throw new Error('the page has no #app element');
root.textContent = '';
render(<App />, root);
