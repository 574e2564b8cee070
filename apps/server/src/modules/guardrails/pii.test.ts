import { describe, expect, it } from 'vitest';
import { applyMasks } from './compile.ts';
import { unsafePatternReason } from './deny-list.ts';
import { cnIdValid, findPii, luhnValid, PII_ENTITIES } from './pii.ts';

const all = new Set(PII_ENTITIES);
const rules = (text: string) => findPii(text, all).map((f) => f.rule);

describe('PII rules', () => {
  it('checks Chinese resident ID checksums and payment card Luhn sums', () => {
    expect(cnIdValid('11010519491231002X')).toBe(true);
    expect(cnIdValid('110105194912310021')).toBe(false);
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
  });

  it('finds each entity once, and leaves look-alikes alone', () => {
    expect(rules('write to a.b+c@mail.example.cn')).toEqual(['pii:email']);
    expect(rules('call +86 13912345678 or 13912345678')).toEqual(['pii:cn_mobile', 'pii:cn_mobile']);
    expect(rules('id 11010519491231002X')).toEqual(['pii:cn_id']);
    expect(rules('id 110105194912310021 (bad checksum)')).toEqual([]);
    expect(rules('card 4111-1111-1111-1111')).toEqual(['pii:credit_card']);
    expect(rules('order 4111111111111112')).toEqual([]);
    expect(rules('from 192.168.10.1 and 2001:db8::1')).toEqual(['pii:ip', 'pii:ip']);
    expect(rules('at 12:30 version 1.2.3')).toEqual([]);
    expect(rules('office +1 415-555-0132')).toEqual(['pii:phone']);
  });

  it('masks spans in place', () => {
    const text = 'mail x@y.io now';
    expect(applyMasks(text, findPii(text, all))).toBe('mail [EMAIL] now');
  });

  it('stays linear on hostile input', () => {
    const started = performance.now();
    findPii(`${'a'.repeat(50_000)}@${'b'.repeat(50_000)}`, all);
    findPii('1 '.repeat(50_000), all);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('deny-list patterns', () => {
  it('refuses nested quantifiers and patterns that do not compile', () => {
    expect(unsafePatternReason('(a+)+$')).toMatch(/backtrack/);
    expect(unsafePatternReason('([a-z]*)*x')).toMatch(/backtrack/);
    expect(unsafePatternReason('(unclosed')).toMatch(/compile/);
    expect(unsafePatternReason('ticket-\\d{4}')).toBeNull();
  });
});
