// One colour per domain, the same on every page and every visit: a hash of the domain's name
// picks from a ten-colour palette (Tableau 10, chosen to stay apart for colour-blind readers).

const palette = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'] as const;

export function colourOf(domain: string): string {
  let hash = 2166136261;
  for (let i = 0; i < domain.length; i++) hash = Math.imul(hash ^ domain.charCodeAt(i), 16777619);
  return palette[(hash >>> 0) % palette.length]!;
}
