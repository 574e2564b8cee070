import { describe, expect, it } from 'vitest';
import { classifyAddress, isMetadataName, parseAddress } from './address-class.ts';

const cls = (a: string) => classifyAddress(parseAddress(a)!);

describe('address classes', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['100.64.0.1', 'shared'],
    ['100.127.255.254', 'shared'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.1', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['169.254.169.254', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['100.100.100.200', 'metadata'],
  ])('%s is %s', (addr, want) => {
    expect(cls(addr)).toBe(want);
  });

  it('judges IPv4 carried in IPv6 by the IPv4 address', () => {
    expect(cls('::ffff:127.0.0.1')).toBe('loopback');
    expect(cls('::ffff:7f00:1')).toBe('loopback');
    expect(cls('::ffff:10.0.0.1')).toBe('private');
    expect(cls('::ffff:169.254.169.254')).toBe('metadata');
    expect(cls('64:ff9b::10.0.0.1')).toBe('private'); // NAT64
    expect(cls('2002:7f00:1::')).toBe('loopback'); // 6to4
    expect(cls('::127.0.0.1')).not.toBeNull(); // IPv4-compatible
    expect(cls('64:ff9b::8.8.8.8')).toBeNull();
  });

  it('lets public unicast through', () => {
    expect(cls('8.8.8.8')).toBeNull();
    expect(cls('1.1.1.1')).toBeNull();
    expect(cls('2606:4700:4700::1111')).toBeNull();
    expect(cls('::ffff:8.8.8.8')).toBeNull();
  });

  it('reads brackets and zones, and leaves short IPv4 forms to the resolver', () => {
    expect(parseAddress('[::1]')?.toString()).toBe('::1');
    expect(parseAddress('fe80::1%eth0')?.kind()).toBe('ipv6');
    expect(parseAddress('127.1')).toBeNull();
    expect(parseAddress('example.com')).toBeNull();
  });

  it('knows the metadata host names', () => {
    expect(isMetadataName('metadata.google.internal')).toBe(true);
    expect(isMetadataName('METADATA.google.internal.')).toBe(true);
    expect(isMetadataName('api.openai.com')).toBe(false);
  });
});
