// Path parameters at the HTTP boundary. Bodies, query parameters and MCP arguments are checked by
// the shared schemas in src/kernel/requests.ts.

import { invalid, shown } from '../kernel/requests.js';

/** A path parameter, percent-decoded (ids like `node:person:…` may arrive encoded). */
export function pathParam(raw: string, field: string): string {
  // Most ids arrive unencoded: skip the decoder for them.
  if (raw.indexOf('%') < 0) {
    if (raw === '') throw invalid(field, 'must not be empty');
    return raw;
  }
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    throw invalid(field, `invalid percent-encoding in ${shown(raw)}`);
  }
  if (value === '') throw invalid(field, 'must not be empty');
  return value;
}
