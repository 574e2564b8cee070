import { describe, expect, it } from 'vitest';
import { parseAddress } from './address-class.ts';
import { AllowListError, allowsAddress, allowsHost, parseAllowList } from './allow-list.ts';

const addr = (a: string) => parseAddress(a)!;

describe('allow-list', () => {
  it('reads ranges, addresses, names and ports', () => {
    const list = parseAllowList(
      '10.0.0.0/8, vllm.internal,127.0.0.1:8000 [::1]:9000 fd00::/8 *.corp.internal',
    );
    expect(list.map((e) => e.kind)).toEqual(['cidr', 'host', 'cidr', 'cidr', 'cidr', 'host']);
    expect(allowsAddress(list, addr('10.9.8.7'), 80)).toBe(true);
    expect(allowsAddress(list, addr('::ffff:10.9.8.7'), 80)).toBe(true);
    expect(allowsAddress(list, addr('11.0.0.1'), 80)).toBe(false);
    expect(allowsAddress(list, addr('127.0.0.1'), 8000)).toBe(true);
    expect(allowsAddress(list, addr('127.0.0.1'), 8001)).toBe(false);
    expect(allowsAddress(list, addr('::1'), 9000)).toBe(true);
    expect(allowsAddress(list, addr('::1'), 80)).toBe(false);
    expect(allowsAddress(list, addr('fd12::1'), 443)).toBe(true);
    expect(allowsHost(list, 'VLLM.internal', 8000)).toBe(true);
    expect(allowsHost(list, 'gpu-1.corp.internal', 8000)).toBe(true);
    expect(allowsHost(list, 'corp.internal', 8000)).toBe(false);
    expect(allowsHost(list, 'evil-vllm.internal', 8000)).toBe(false);
  });

  it('reads a mapped IPv4 range as the IPv4 range', () => {
    const list = parseAllowList('::ffff:10.0.0.0/104');
    expect(allowsAddress(list, addr('10.1.1.1'), 80)).toBe(true);
    expect(allowsAddress(list, addr('11.1.1.1'), 80)).toBe(false);
  });

  it('is empty when unset', () => {
    expect(parseAllowList(undefined)).toEqual([]);
    expect(parseAllowList(' , ')).toEqual([]);
  });

  it.each(['10.0.0.0/33', '10.0.0.0/x', 'host:0', 'host:99999', '[::1', 'bad!host', 'a..b', '::1/129'])(
    'refuses %s',
    (bad) => {
      expect(() => parseAllowList(bad)).toThrow(AllowListError);
    },
  );
});
