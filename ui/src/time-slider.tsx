// A slider over seq, from the node's first event to the memory's last, with the node's own
// events as ticks. The page re-reads only when the thumb stops (or is released), so dragging
// across a thousand seqs asks the server for a handful of states, not a thousand.

import { useEffect, useRef, useState } from 'preact/hooks';
import type { HistoryEvent } from './api.js';
import { formatTime } from './format.js';

/** Quiet time after the last slider movement before the page asks for that state. */
const settleMs = 200;

interface Props {
  firstSeq: number;
  lastSeq: number;
  asOf: number | null;
  history: readonly HistoryEvent[];
  onChange(asOf: number | null): void;
}

export function TimeSlider({ firstSeq, lastSeq, asOf, history, onChange }: Props) {
  const [value, setValue] = useState(asOf ?? lastSeq);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => setValue(asOf ?? lastSeq), [asOf, lastSeq]);
  useEffect(() => () => clearTimeout(timer.current), []);

  const commit = (seq: number) => {
    clearTimeout(timer.current);
    const next = seq >= lastSeq ? null : seq;
    if (next !== asOf) onChange(next);
  };
  const move = (seq: number) => {
    setValue(seq);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => commit(seq), settleMs);
  };
  const seqs = history.map((e) => e.seq);
  const previous = [...seqs].reverse().find((s) => s < value);
  const next = seqs.find((s) => s > value);
  const lastTouch = [...history].reverse().find((e) => e.seq <= value);
  return (
    <div class="time-slider">
      <button type="button" disabled={previous === undefined} onClick={() => previous !== undefined && commit(previous)} title="the node's previous event">
        ◀ event
      </button>
      <input
        type="range"
        min={firstSeq}
        max={Math.max(lastSeq, firstSeq)}
        step={1}
        value={value}
        list="node-events"
        aria-label="time travel: seq"
        data-testid="time-slider"
        onInput={(e) => move(Number((e.target as HTMLInputElement).value))}
        onChange={(e) => commit(Number((e.target as HTMLInputElement).value))}
      />
      <datalist id="node-events">
        {seqs.map((s) => (
          <option value={s} />
        ))}
      </datalist>
      <button type="button" disabled={next === undefined} onClick={() => next !== undefined && commit(next)} title="the node's next event">
        event ▶
      </button>
      <button type="button" disabled={asOf === null} onClick={() => commit(lastSeq)}>
        now
      </button>
      <span class="as-of" data-testid="as-of">
        {asOf === null && value >= lastSeq ? `now (seq ${lastSeq})` : `as of seq ${value} of ${lastSeq}`}
        {lastTouch !== undefined && <span class="muted"> · node last changed {formatTime(lastTouch.ts)} (seq {lastTouch.seq})</span>}
      </span>
    </div>
  );
}
