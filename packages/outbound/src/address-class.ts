import ipaddr from 'ipaddr.js';

/** Why an address is not a public unicast one; `null` for one that is. */
export type AddressClass =
  | 'loopback'
  | 'private'
  | 'shared'
  | 'link-local'
  | 'multicast'
  | 'unspecified'
  | 'broadcast'
  | 'reserved'
  | 'metadata';

/** Cloud instance-metadata services (AWS, AWS IPv6, ECS, Alibaba); refused even when allowed. */
const METADATA = new Set([
  '169.254.169.254',
  '169.254.170.2',
  '169.254.170.23',
  '100.100.100.200',
  'fd00:ec2::254',
  'fd00:ec2::23',
]);

/** Host names that reach a metadata service from inside a cloud VM. */
const METADATA_NAMES = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'metadata.azure.internal',
  'instance-data',
  'instance-data.ec2.internal',
]);

const V4_CLASS: Record<string, AddressClass | null> = {
  unicast: null,
  loopback: 'loopback',
  private: 'private',
  carrierGradeNat: 'shared',
  linkLocal: 'link-local',
  multicast: 'multicast',
  unspecified: 'unspecified',
  broadcast: 'broadcast',
};

const V6_CLASS: Record<string, AddressClass | null> = {
  unicast: null,
  loopback: 'loopback',
  uniqueLocal: 'private',
  deprecatedSiteLocal: 'private',
  linkLocal: 'link-local',
  multicast: 'multicast',
  unspecified: 'unspecified',
};

/** An address in canonical form (IPv4-mapped IPv6 becomes IPv4), or null when it is not an IP. */
export function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const zone = bare.indexOf('%');
  const plain = zone === -1 ? bare : bare.slice(0, zone);
  if (!ipaddr.isValid(plain)) return null;
  // only the four-part dotted IPv4 form: `127.1` and `0x7f.1` are host names here
  if (ipaddr.IPv4.isValid(plain) && !ipaddr.IPv4.isValidFourPartDecimal(plain)) return null;
  return ipaddr.process(plain);
}

export const canonical = (addr: ipaddr.IPv4 | ipaddr.IPv6): string => addr.toNormalizedString();

/**
 * The class of an address that is not public unicast, or null. IPv4-mapped, NAT64 and 6to4 forms
 * are judged by the IPv4 address they carry; anything else special (documentation, benchmarking,
 * Teredo, IPv4-compatible …) is `reserved`.
 */
export function classifyAddress(addr: ipaddr.IPv4 | ipaddr.IPv6): AddressClass | null {
  if (METADATA.has(addr.toString()) || METADATA.has(addr.toNormalizedString())) return 'metadata';
  if (addr.kind() === 'ipv4') {
    const range = addr.range();
    return range in V4_CLASS ? V4_CLASS[range]! : 'reserved';
  }
  const v6 = addr as ipaddr.IPv6;
  const range = v6.range();
  if (range === 'ipv4Mapped') return classifyAddress(v6.toIPv4Address());
  const parts = v6.parts;
  if (range === 'rfc6052' && parts[0] === 0x64 && parts[1] === 0xff9b && parts[2] === 0) {
    return classifyAddress(embeddedV4(parts[6]!, parts[7]!)); // NAT64 64:ff9b::/96
  }
  if (range === '6to4') return classifyAddress(embeddedV4(parts[1]!, parts[2]!));
  if (range in V6_CLASS) return V6_CLASS[range]!;
  if (range !== 'unicast') return 'reserved';
  // ::/96 (IPv4-compatible, deprecated) is not a place to send requests
  if (parts.slice(0, 6).every((p) => p === 0)) return 'reserved';
  return null;
}

const embeddedV4 = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);

/** Host names of metadata services (lower case, no trailing dot). */
export const isMetadataName = (hostname: string): boolean =>
  METADATA_NAMES.has(hostname.toLowerCase().replace(/\.$/, ''));

const PHRASES: Record<AddressClass, string> = {
  loopback: 'a loopback address',
  private: 'a private address',
  shared: 'a carrier-grade NAT address',
  'link-local': 'a link-local address',
  multicast: 'a multicast address',
  unspecified: 'an unspecified address',
  broadcast: 'the broadcast address',
  reserved: 'a reserved address',
  metadata: 'a cloud metadata address',
};

export const phraseOf = (c: AddressClass): string => PHRASES[c];
