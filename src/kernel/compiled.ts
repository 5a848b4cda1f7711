// Worker threads need compiled JavaScript. Under the compiled package a worker module sits next
// to the module that starts it; under a TypeScript test runner (sources in src/) it is the build
// in dist/, if there is one.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** `sibling` (a URL to a .js file beside the caller) if it exists, else the same file under dist/, else null. */
export function compiledModule(sibling: URL): URL | null {
  const path = fileURLToPath(sibling);
  if (existsSync(path)) return sibling;
  const built = path.replace(/([\\/])src([\\/])(?=[^\\/]+[\\/][^\\/]+\.js$)/, '$1dist$1src$2');
  return built !== path && existsSync(built) ? pathToFileURL(built) : null;
}
