import { isIPv6 } from 'node:net';

/** What the PII guardrail finds: each entity is a rule of its own (`pii:<entity>` in audit rows). */
export const PII_ENTITIES = ['email', 'phone', 'cn_mobile', 'cn_id', 'credit_card', 'ip'] as const;
export type PiiEntity = (typeof PII_ENTITIES)[number];

export interface Finding {
  start: number;
  end: number;
  /** the rule that matched, never the text: `pii:email`, `keyword:2`, `pattern:0` */
  rule: string;
  /** what a mask puts in place of the match */
  mask: string;
}

/** Digits of a string, for checksums. */
const digitsOf = (s: string) => s.replace(/\D/g, '');

/** Luhn checksum (payment card numbers). */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length >= 13 && digits.length <= 19 && sum % 10 === 0;
}

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

/** Chinese resident identity number (GB 11643-1999): 17 digits, a checksum digit or X, a sane birth date. */
export function cnIdValid(id: string): boolean {
  if (!/^\d{17}[\dX]$/i.test(id)) return false;
  const month = Number(id.slice(10, 12));
  const day = Number(id.slice(12, 14));
  if (month < 1 || month > 12 || day < 1 || day > 31) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (id.charCodeAt(i) - 48) * ID_WEIGHTS[i]!;
  return ID_CHECK[sum % 11] === id[17]!.toUpperCase();
}

interface Detector {
  entity: PiiEntity;
  /** cheap test that skips the regex on text that cannot match */
  maybe: (text: string) => boolean;
  pattern: RegExp;
  valid?: (match: string) => boolean;
}

const hasDigits = (t: string) => /\d/.test(t);

// Every quantifier is bounded or over disjoint classes: no pattern backtracks badly on long input.
// Order matters: a span found by an earlier detector is not reported again by a later one.
const DETECTORS: Detector[] = [
  {
    entity: 'cn_id',
    maybe: hasDigits,
    pattern: /(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])/g,
    valid: cnIdValid,
  },
  {
    entity: 'credit_card',
    maybe: hasDigits,
    pattern: /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/g,
    valid: (m) => luhnValid(digitsOf(m)),
  },
  {
    entity: 'cn_mobile',
    maybe: hasDigits,
    pattern: /(?<![\d+])(?:(?:\+|00)86[ -]?)?1[3-9]\d{9}(?!\d)/g,
  },
  {
    entity: 'email',
    maybe: (t) => t.includes('@'),
    pattern: /[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}/g,
  },
  {
    entity: 'ip',
    maybe: (t) => t.includes('.') || t.includes(':'),
    pattern:
      /(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\d.])|(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){1,7}:?(?:[0-9A-Fa-f]{1,4}:?){0,7}[0-9A-Fa-f]{1,4}(?![\w:])/g,
    valid: (m) => !m.includes(':') || isIPv6(m),
  },
  {
    entity: 'phone',
    maybe: hasDigits,
    // international or national numbers written with separators: +1 415-555-0132, (021) 5555 0132
    pattern:
      /(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}[ .-]\d{3,4}(?:[ .-]\d{2,4})?(?![\w])/g,
    valid: (m) => {
      const n = digitsOf(m).length;
      return n >= 7 && n <= 15;
    },
  },
];

const MASKS: Record<PiiEntity, string> = {
  email: '[EMAIL]',
  phone: '[PHONE]',
  cn_mobile: '[PHONE]',
  cn_id: '[ID_NUMBER]',
  credit_card: '[CARD_NUMBER]',
  ip: '[IP_ADDRESS]',
};

/** Every PII span of the entities asked for, in text order, without overlaps. */
export function findPii(text: string, entities: ReadonlySet<PiiEntity>): Finding[] {
  const found: Finding[] = [];
  const overlaps = (s: number, e: number) => found.some((f) => s < f.end && e > f.start);
  for (const d of DETECTORS) {
    if (!entities.has(d.entity) || !d.maybe(text)) continue;
    d.pattern.lastIndex = 0;
    for (const m of text.matchAll(d.pattern)) {
      const start = m.index;
      const end = start + m[0].length;
      if (d.valid && !d.valid(m[0])) continue;
      if (overlaps(start, end)) continue;
      found.push({ start, end, rule: `pii:${d.entity}`, mask: MASKS[d.entity] });
    }
  }
  return found.sort((a, b) => a.start - b.start);
}
