// The web inspector's files, for the HTTP server's `extraRoutes` (the CLI mounts them): GET /ui
// serves the page, GET /ui/assets/:name its script and styles, and `/` and Prime's old
// `/graph.html` redirect to /ui. Like every route they pass the server's admission first, so the
// page is served to loopback callers only. The page itself talks to the ordinary HTTP API.
//
// With MNEMO_API_KEY set these files are served without the key (they hold no data); the page
// asks for the key and sends it with every API call.
//
// Caching: `npm run build` names every asset after a hash of its content, so an asset is sent
// `immutable` with a year's max-age and a new build is new names; the page that names them is
// small (~1 KB) and is sent `no-cache`, so a browser always picks up the current build.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MnemoError } from '../index.js';
import { RawResult } from '../kernel/wire.js';
import type { Route } from './routes.js';

export const inspectorPath = '/ui';
/** A year: the longest max-age caches honour; hashed names make a stale copy impossible. */
const assetMaxAgeS = 365 * 24 * 3600;
const assetCacheControl = `public, max-age=${assetMaxAgeS}, immutable`;
const pageCacheControl = 'no-cache';
/**
 * The page may load and call only the server it came from; a CDN font or a script injected
 * through a stored property value (the page prints user data) has nowhere to go.
 */
const contentSecurityPolicy =
  "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const contentTypes: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
};

interface BuiltInspector {
  page: Uint8Array;
  /** Asset file name → its response; only names the build wrote are ever served (no paths). */
  assets: Map<string, RawResult>;
}

/** The page, its assets and the redirects to it: files without data, served without the API key. */
export function isInspectorFile(url: string): boolean {
  return url === inspectorPath || url === `${inspectorPath}/` || url.startsWith(`${inspectorPath}/assets/`) || url === '/' || url === '/graph.html';
}

/** The directory `npm run build` writes the inspector to: `dist/ui` under the package root. */
export function defaultInspectorDir(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'dist', 'ui');
  }
  return join(process.cwd(), 'dist', 'ui');
}

/** The inspector's routes, serving the build in `dir` (read once, on the first request that finds it). */
export function inspectorRoutes(dir = defaultInspectorDir()): Route[] {
  let built: BuiltInspector | null = null;
  const current = (): BuiltInspector => (built ??= readBuild(dir));
  const page: Route = {
    method: 'get',
    pattern: inspectorPath,
    operation: 'inspector.page',
    parse: () => undefined,
    run: () =>
      new RawResult(contentTypes['.html']!, current().page, 200, {
        'Cache-Control': pageCacheControl,
        'Content-Security-Policy': contentSecurityPolicy,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
      }),
  };
  const asset: Route = {
    method: 'get',
    pattern: `${inspectorPath}/assets/:name`,
    operation: 'inspector.asset',
    parse: (request) => request.params[0] ?? '',
    run: (_context, name) => {
      const found = current().assets.get(name as string);
      if (found === undefined) throw new MnemoError('ROUTE_NOT_FOUND', { method: 'GET', path: `${inspectorPath}/assets/${String(name)}` });
      return found;
    },
  };
  return [page, { ...page, pattern: `${inspectorPath}/` }, asset, redirect('/', 'inspector.root'), redirect('/graph.html', 'inspector.prime_graph')];
}

/** A 302 to the inspector: `/` for people, `/graph.html` for bookmarks of Prime's viewer. */
function redirect(pattern: string, operation: string): Route {
  return {
    method: 'get',
    pattern,
    operation,
    parse: () => undefined,
    run: () => new RawResult('text/plain; charset=utf-8', `see ${inspectorPath}\n`, 302, { Location: inspectorPath }),
  };
}

function readBuild(dir: string): BuiltInspector {
  const pagePath = join(dir, 'index.html');
  const assetsDir = join(dir, 'assets');
  if (!existsSync(pagePath) || !existsSync(assetsDir)) throw new MnemoError('INSPECTOR_NOT_BUILT', { dir });
  const assets = new Map<string, RawResult>();
  for (const name of readdirSync(assetsDir)) {
    const contentType = contentTypes[extname(name)] ?? 'application/octet-stream';
    assets.set(name, new RawResult(contentType, readFileSync(join(assetsDir, name)), 200, { 'Cache-Control': assetCacheControl, 'X-Content-Type-Options': 'nosniff' }));
  }
  return { page: readFileSync(pagePath), assets };
}
