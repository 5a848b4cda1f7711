// Builds the web inspector into dist/ui: one script and one stylesheet bundled by esbuild from
// ui/src (Preact, Cytoscape.js, uPlot and our own code; nothing is fetched at run time), each
// named after a hash of its content so the server can send them `immutable`, and the page
// (dist/ui/index.html) that names them. Run by `npm run build` and `npm test`.

import { build } from 'esbuild';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'dist', 'ui');
const assetsDir = join(outDir, 'assets');
/** The path the server mounts the assets under (src/server/inspector.ts). */
const assetsUrl = '/ui/assets';

await rm(outDir, { recursive: true, force: true });
await mkdir(assetsDir, { recursive: true });
const result = await build({
  entryPoints: [join(root, 'ui', 'src', 'main.tsx')],
  outdir: assetsDir,
  bundle: true,
  format: 'esm',
  // Chromium, Firefox and Safari of the last two years; no polyfills needed.
  target: ['es2022'],
  minify: true,
  sourcemap: 'linked',
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  metafile: true,
  logLevel: 'warning',
});

const outputs = Object.entries(result.metafile.outputs);
const script = outputs.find(([, output]) => output.entryPoint !== undefined);
if (script === undefined) throw new Error('esbuild wrote no entry script');
const [scriptPath, scriptOutput] = script;
const stylesheet = scriptOutput.cssBundle;

const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mnemo inspector</title>
<link rel="icon" href="data:,">
${stylesheet === undefined ? '' : `<link rel="stylesheet" href="${assetsUrl}/${basename(stylesheet)}">\n`}<script type="module" src="${assetsUrl}/${basename(scriptPath)}"></script>
</head>
<body>
<div id="app"><p class="loading">Loading the inspector…</p></div>
</body>
</html>
`;
await writeFile(join(outDir, 'index.html'), page);
const bytes = outputs.reduce((sum, [path, output]) => sum + (path.endsWith('.map') ? 0 : output.bytes), 0);
console.log(`inspector: ${outputs.length} files in ${outDir} (${(bytes / 1024).toFixed(0)} KiB without source maps)`);
