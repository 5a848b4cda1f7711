// The Parquet reader's worker thread: decodes one file per call with hyparquet's async reader
// (decode.ts). reader.ts calls it synchronously through synckit, which blocks the caller on an
// Atomics wait until the reply is posted.
import { runAsWorker } from 'synckit';

import { decodeParquetFile } from './decode.js';

runAsWorker(decodeParquetFile);
