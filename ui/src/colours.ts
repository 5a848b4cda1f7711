// One colour per domain, the same everywhere in the page for as long as it is open: domains
// take the ten colours of the palette (Tableau 10, chosen to stay apart for colour-blind
// readers) in the order the page first meets them, so the first ten never share one; later
// domains reuse the palette in turn.

const palette = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'] as const;
const assigned = new Map<string, string>();

export function colourOf(domain: string): string {
  let colour = assigned.get(domain);
  if (colour === undefined) {
    colour = palette[assigned.size % palette.length]!;
    assigned.set(domain, colour);
  }
  return colour;
}
