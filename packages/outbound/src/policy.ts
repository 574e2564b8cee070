import { lookup as dnsLookup } from 'node:dns';
import { networkInterfaces } from 'node:os';
import type ipaddr from 'ipaddr.js';
import {
  type AddressClass,
  canonical,
  classifyAddress,
  isMetadataName,
  parseAddress,
  phraseOf,
} from './address-class.ts';
import { type AllowEntry, allowsAddress, allowsHost, parseAllowList } from './allow-list.ts';

/** The setting platform admins use to allow private hosts and ranges. */
export const ALLOW_SETTING = 'MAAS_OUTBOUND_ALLOW';

/** Why a destination is refused: an address class, or maas itself. */
export type RefusalReason = AddressClass | 'self';

/** A connection the outbound policy refused; `code` is stable for error mapping. */
export class OutboundRefused extends Error {
  readonly code = 'EOUTBOUND_REFUSED';
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(message);
    this.name = 'OutboundRefused';
  }
}

export interface ResolvedAddress {
  address: string;
  family: number;
}
/** Every address of a host name (like `dns.lookup(name, { all: true })`). */
export type Resolve = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolve: Resolve = (hostname) =>
  new Promise((done, fail) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addrs) => (err ? fail(err) : done(addrs))),
  );

export interface OutboundPolicyOptions {
  /** `MAAS_OUTBOUND_ALLOW`: addresses, CIDR ranges and host names (optionally with a port) */
  allow?: string | readonly string[] | AllowEntry[];
  /** name resolution (default: the system's, as `dns.lookup`) */
  resolve?: Resolve;
}

type Self = { address: string | '*'; port: number };

const isEntries = (a: unknown): a is AllowEntry[] =>
  Array.isArray(a) && a.length > 0 && typeof a[0] === 'object';

/**
 * One policy for every request maas makes on a tenant's behalf: public unicast addresses only,
 * unless a platform admin allowed the host or range; cloud metadata services and maas's own listen
 * addresses never. Checked when a connection is opened, on the address actually dialled.
 */
export function createOutboundPolicy(opts: OutboundPolicyOptions = {}) {
  const entries = isEntries(opts.allow) ? opts.allow : parseAllowList(opts.allow as string | undefined);
  const resolve = opts.resolve ?? systemResolve;
  const self: Self[] = [];

  const isSelf = (addr: ipaddr.IPv4 | ipaddr.IPv6, port: number): boolean => {
    if (self.length === 0) return false;
    const text = canonical(addr);
    for (const s of self) {
      if (s.port !== port) continue;
      if (s.address === text) return true;
      if (
        s.address === '*' &&
        (addr.range() === 'loopback' || addr.range() === 'unspecified' || localAddresses().has(text))
      )
        return true;
    }
    return false;
  };

  /**
   * Why `address:port` may not be dialled (reached as `hostname` when a name was resolved), or
   * null. Synchronous and allocation-light: it runs once per new connection.
   */
  function refusal(address: string, port: number, hostname: string | null = null): OutboundRefused | null {
    const addr = parseAddress(address);
    if (!addr) return new OutboundRefused('reserved', `${address} is not an IP address`);
    const via = hostname ? 'resolves to' : 'is';
    if (isSelf(addr, port)) return new OutboundRefused('self', 'points at maas itself');
    const cls = classifyAddress(addr);
    if (cls === 'metadata') return new OutboundRefused('metadata', `${via} ${phraseOf(cls)}`);
    if (cls === null) return null;
    if (allowsAddress(entries, addr, port) || (hostname !== null && allowsHost(entries, hostname, port)))
      return null;
    return new OutboundRefused(
      cls,
      `${via} ${phraseOf(cls)}; a platform admin can allow it with ${ALLOW_SETTING}`,
    );
  }

  /** Refusals decided by the name alone (metadata services), before any lookup. */
  function nameRefusal(hostname: string): OutboundRefused | null {
    return isMetadataName(hostname) ? new OutboundRefused('metadata', 'is a cloud metadata address') : null;
  }

  /**
   * The addresses of `host` this policy lets us dial at `port`, in resolution order; throws
   * OutboundRefused when there are none (the first refusal says why).
   */
  async function permittedAddresses(host: string, port: number): Promise<string[]> {
    const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    if (parseAddress(bare)) {
      const r = refusal(bare, port);
      if (r) throw r;
      return [bare];
    }
    const byName = nameRefusal(bare);
    if (byName) throw byName;
    const addrs = await resolve(bare);
    const ok: string[] = [];
    let first: OutboundRefused | null = null;
    for (const a of addrs) {
      const r = refusal(a.address, port, bare);
      if (r) first ??= r;
      else ok.push(a.address);
    }
    if (ok.length === 0) throw first ?? new OutboundRefused('reserved', 'resolves to no address');
    return ok;
  }

  return {
    refusal,
    permittedAddresses,

    /**
     * Checks a URL before it is stored (a provider's base URL, a webhook): null when it may be
     * used, else the refusal. A name that does not resolve (yet) passes here; the connection is
     * checked again when it is opened.
     */
    async checkUrl(url: string, timeoutMs = 3_000): Promise<OutboundRefused | null> {
      const u = new URL(url);
      const port = Number(u.port) || (u.protocol === 'https:' ? 443 : 80);
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = new Promise<null>((done) => {
        timer = setTimeout(() => done(null), timeoutMs);
      });
      try {
        await Promise.race([permittedAddresses(u.hostname, port), gaveUp]);
        return null;
      } catch (err) {
        if (err instanceof OutboundRefused) return err;
        return null;
      } finally {
        clearTimeout(timer);
      }
    },

    /** Adds a listen address of this process: never dialled, whatever the allow-list says. */
    addSelf(host: string, port: number): void {
      const addr = parseAddress(host);
      const wildcard = !addr || addr.range() === 'unspecified';
      const address = wildcard ? '*' : canonical(addr);
      if (!self.some((s) => s.address === address && s.port === port)) self.push({ address, port });
    },

    /** the allow-list as configured, for logs */
    allowed: (): string[] => entries.map((e) => e.text),
  };
}

export type OutboundPolicy = ReturnType<typeof createOutboundPolicy>;

function localAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces()))
    for (const i of list ?? []) {
      const a = parseAddress(i.address);
      if (a) out.add(canonical(a));
    }
  return out;
}

/** Header maas adds to every upstream request; a request that carries it back is a loop. */
export const HOP_HEADER = 'x-maas-hop';
