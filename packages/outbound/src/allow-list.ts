import type ipaddr from 'ipaddr.js';
import { parseAddress } from './address-class.ts';

/** One entry of the allow-list: a CIDR (one address is a /32 or /128), or a host name; either may name a port. */
export type AllowEntry =
  | { kind: 'cidr'; range: [ipaddr.IPv4 | ipaddr.IPv6, number]; port: number | null; text: string }
  | { kind: 'host'; name: string; wildcard: boolean; port: number | null; text: string };

export class AllowListError extends Error {}

const HOST = /^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,62})?)(\.[a-z0-9_]([a-z0-9_-]{0,62})?)*\.?$/;

/**
 * Parses `MAAS_OUTBOUND_ALLOW`: comma- or space-separated `10.0.0.0/8`, `fd00::/8`, `127.0.0.1`,
 * `127.0.0.1:8000`, `[::1]:8000`, `vllm.internal`, `vllm.internal:8000`, `*.corp.internal`.
 * Throws AllowListError naming the first entry it cannot read.
 */
export function parseAllowList(text: string | readonly string[] | undefined): AllowEntry[] {
  const items = typeof text === 'string' ? text.split(/[\s,]+/) : [...(text ?? [])];
  return items
    .map((s) => s.trim())
    .filter(Boolean)
    .map(parseEntry);
}

function parseEntry(text: string): AllowEntry {
  const fail = (why: string) => new AllowListError(`"${text}": ${why}`);
  const { host, port } = splitPort(text, fail);
  if (host.includes('/')) {
    const [base = '', bits] = host.split('/');
    const addr = parseAddress(base);
    if (!addr || !/^\d{1,3}$/.test(bits ?? '')) throw fail('not a CIDR range');
    const max = addr.kind() === 'ipv4' ? 32 : 128;
    // a mapped IPv4 range (::ffff:10.0.0.0/104) is read as the IPv4 range it denotes
    const prefix = Number(bits) - (addr.kind() === 'ipv4' && base.includes(':') ? 96 : 0);
    if (prefix < 0 || prefix > max) throw fail(`prefix length must be 0-${max}`);
    return { kind: 'cidr', range: [addr, prefix], port, text };
  }
  const addr = parseAddress(host);
  if (addr) return { kind: 'cidr', range: [addr, addr.kind() === 'ipv4' ? 32 : 128], port, text };
  const name = host.toLowerCase().replace(/\.$/, '');
  if (!HOST.test(name) || name.length > 253) throw fail('not an address, CIDR range or host name');
  const wildcard = name.startsWith('*.');
  return { kind: 'host', name: wildcard ? name.slice(1) : name, wildcard, port, text };
}

function splitPort(text: string, fail: (why: string) => Error): { host: string; port: number | null } {
  let host = text;
  let port: string | undefined;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end === -1) throw fail('unclosed [');
    host = text.slice(1, end);
    const rest = text.slice(end + 1);
    if (rest) {
      if (!rest.startsWith(':')) throw fail('expected :port after ]');
      port = rest.slice(1);
    }
  } else if (text.split(':').length === 2) {
    [host = '', port] = text.split(':');
  }
  if (port === undefined) return { host, port: null };
  const n = Number(port);
  if (!/^\d{1,5}$/.test(port) || n < 1 || n > 65535) throw fail('port must be 1-65535');
  return { host, port: n };
}

/** Is this address (canonical form) at this port allowed by an address entry? */
export function allowsAddress(
  entries: readonly AllowEntry[],
  addr: ipaddr.IPv4 | ipaddr.IPv6,
  port: number,
): boolean {
  for (const e of entries) {
    if (e.kind !== 'cidr' || (e.port !== null && e.port !== port)) continue;
    if (e.range[0].kind() === addr.kind() && addr.match(e.range)) return true;
  }
  return false;
}

/** Is this host name at this port allowed by a host entry? (whatever it resolves to) */
export function allowsHost(entries: readonly AllowEntry[], hostname: string, port: number): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  for (const e of entries) {
    if (e.kind !== 'host' || (e.port !== null && e.port !== port)) continue;
    if (e.wildcard ? name.endsWith(e.name) && name.length > e.name.length : name === e.name) return true;
  }
  return false;
}
