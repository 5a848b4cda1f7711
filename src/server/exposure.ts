// Who may reach what. Loopback callers reach everything; a caller
// from another machine reaches only /health and the read-only /peer/* mirror, and the
// mirror only while MNEMO_PEER_ENABLED=1. Host and Origin are checked so a web page
// cannot use DNS rebinding to turn the user's browser into a loopback caller.

import { isIP } from 'node:net';
import { MnemoError } from '../index.js';

/** A refusal: a MnemoError whose status and message the server answers with. */
export type Refusal = MnemoError;

export const peerEnabledVariable = 'MNEMO_PEER_ENABLED';
export const peerPrefix = '/peer/';

/**
 * True for 127.0.0.0/8, ::1 and IPv4-mapped 127.x. uWebSockets.js reports a dual-stack
 * socket's peer fully expanded (`0000:…:ffff:7f00:0001`), so IPv6 is parsed, not matched.
 */
export function isLoopbackAddress(address: string): boolean {
  if (isIP(address) === 4) return address.startsWith('127.');
  const groups = ipv6Groups(address);
  if (groups === null) return false;
  const leadingZero = groups.slice(0, 5).every((g) => g === 0);
  if (!leadingZero) return false;
  if (groups[5] === 0 && groups[6] === 0 && groups[7] === 1) return true; // ::1
  return groups[5] === 0xffff && (groups[6]! >> 8) === 127; // ::ffff:127.x.y.z
}

/** The eight 16-bit groups of an IPv6 address (with `::` and a trailing dotted quad), or null. */
function ipv6Groups(address: string): number[] | null {
  if (isIP(address) !== 6) return null;
  let text = address.toLowerCase().split('%')[0]!;
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    // ::ffff:127.0.0.1 → ::ffff:7f00:1, so every group below is hex.
    const [a, b, c, d] = last.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const halves = text.split('::');
  if (halves.length === 1) return parse(text);
  const left = parse(halves[0]!);
  const right = parse(halves[1]!);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/**
 * The same rule on the peer address as uWebSockets.js hands it over in binary (4 bytes for an
 * IPv4 socket, 16 for IPv6, a dual-stack socket's IPv4 peers mapped): no text is built, which
 * is half the cost of reading the address as text (0.8 µs against 1.6 µs a request).
 */
export function isLoopbackBytes(address: Uint8Array): boolean {
  if (address.length === 4) return address[0] === 127;
  if (address.length !== 16) return false;
  for (let i = 0; i < 10; i++) if (address[i] !== 0) return false;
  if (address[10] === 0 && address[11] === 0) return address[12] === 0 && address[13] === 0 && address[14] === 0 && address[15] === 1; // ::1
  return address[10] === 0xff && address[11] === 0xff && address[12] === 127; // ::ffff:127.x.y.z
}

/** What the exposure check needs from a request, read synchronously from it. */
export interface ExposureInput {
  /** Whether the peer is this machine (isLoopbackBytes of its address). */
  loopback: boolean;
  url: string;
  host: string;
  origin: string;
}

export interface ExposurePolicy {
  /** Names accepted in Host and Origin besides IP literals and `localhost` (lowercase). */
  allowedHosts: ReadonlySet<string>;
}

/** Host values whose verdict is remembered per policy; past this many, a Host is checked each time. */
const hostVerdictsMax = 64;

/**
 * Checks requests against one policy. A client sends the same Host on every request, so each
 * Host's verdict is kept (up to hostVerdictsMax values): the parse and IP check run once per value,
 * not once per request.
 */
export class ExposureCheck {
  private readonly hostVerdicts = new Map<string, Refusal | null>();

  constructor(private readonly policy: ExposurePolicy) {}

  /** Null when the request may proceed; otherwise the refusal to answer with. */
  check(input: ExposureInput): Refusal | null {
    let hostRefusal = this.hostVerdicts.get(input.host);
    if (hostRefusal === undefined) {
      hostRefusal = checkHost(input.host, this.policy);
      if (this.hostVerdicts.size < hostVerdictsMax) this.hostVerdicts.set(input.host, hostRefusal);
    }
    if (hostRefusal !== null) return hostRefusal;
    const originRefusal = checkOrigin(input.origin, this.policy);
    if (originRefusal !== null) return originRefusal;
    if (input.url === '/health') return null;
    if (input.url.startsWith(peerPrefix)) return checkPeerEnabled();
    if (input.loopback) return null;
    return forbidden(`${input.url} is served to loopback callers only; other machines may reach /health and, when enabled, /peer/*`);
  }
}

/**
 * A rebinding attack needs a DNS name that the attacker controls, so an IP literal is
 * safe, and so are `localhost` and names the owner listed. An absent Host (HTTP/1.0,
 * never a browser) passes for the same reason.
 */
function checkHost(host: string, policy: ExposurePolicy): Refusal | null {
  if (host === '') return null;
  const name = hostnameOf(host);
  if (name !== null && (isIP(name) !== 0 || isNamedLocal(name, policy))) return null;
  return forbidden(`Host '${truncate(host)}' is not an IP address, localhost or a name given with --allowed-host`);
}

/** A browser sends Origin on cross-site requests; only loopback origins and allowed names may call. */
function checkOrigin(origin: string, policy: ExposurePolicy): Refusal | null {
  if (origin === '') return null;
  let name: string;
  try {
    name = new URL(origin).hostname.toLowerCase();
  } catch {
    return forbidden(`Origin '${truncate(origin)}' is not a loopback or allowed origin`);
  }
  const bare = name.startsWith('[') ? name.slice(1, -1) : name;
  if (isLoopbackAddress(bare) || isNamedLocal(bare, policy)) return null;
  return forbidden(`Origin '${truncate(origin)}' is not a loopback or allowed origin`);
}

function checkPeerEnabled(): Refusal | null {
  // Read per request so the owner can switch peering on and off without a restart.
  if (process.env[peerEnabledVariable] === '1') return null;
  return new MnemoError('PEER_DISABLED', { variable: peerEnabledVariable });
}

/** `example.com:3905` → `example.com`; `[::1]:3905` → `::1`; null when malformed. */
function hostnameOf(host: string): string | null {
  const lower = host.toLowerCase();
  if (lower.startsWith('[')) {
    const end = lower.indexOf(']');
    return end > 0 ? lower.slice(1, end) : null;
  }
  const colon = lower.indexOf(':');
  return colon >= 0 ? lower.slice(0, colon) : lower;
}

function isNamedLocal(name: string, policy: ExposurePolicy): boolean {
  return name === 'localhost' || policy.allowedHosts.has(name);
}

function forbidden(reason: string): Refusal {
  return new MnemoError('FORBIDDEN', { reason });
}

/** Header values are echoed in messages; keep them short. */
function truncate(value: string): string {
  return value.length > 100 ? `${value.slice(0, 100)}…` : value;
}
