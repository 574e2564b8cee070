import safeRegex from 'safe-regex2';
import type { Finding } from './pii.ts';

export interface DenyListConfig {
  keywords: string[];
  patterns: string[];
  case_sensitive: boolean;
}

export const MAX_PATTERN_LENGTH = 500;

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Why a pattern may not be saved, or null when it may: it must compile, and it must not be one
 * that backtracks catastrophically (nested quantifiers such as `(a+)+`, judged by safe-regex2).
 */
export function unsafePatternReason(pattern: string): string | null {
  if (pattern.length > MAX_PATTERN_LENGTH) return `longer than ${MAX_PATTERN_LENGTH} characters`;
  try {
    new RegExp(pattern, 'u');
  } catch (err) {
    return `does not compile: ${(err as Error).message}`;
  }
  if (!safeRegex(pattern, { limit: 25 }))
    return 'may backtrack catastrophically (nested or many quantifiers)';
  return null;
}

/** A scanner over keywords (literal, any case unless told) and regular expressions. */
export function compileDenyList(config: DenyListConfig): (text: string) => Finding[] {
  const flags = config.case_sensitive ? 'gu' : 'giu';
  const rules = [
    ...config.keywords.map((k, i) => ({ rule: `keyword:${i}`, re: new RegExp(escapeRegex(k), flags) })),
    ...config.patterns.map((p, i) => ({ rule: `pattern:${i}`, re: new RegExp(p, flags) })),
  ];
  return (text) => {
    const found: Finding[] = [];
    for (const { rule, re } of rules) {
      re.lastIndex = 0;
      for (const m of text.matchAll(re)) {
        if (m[0].length === 0) continue;
        found.push({ start: m.index, end: m.index + m[0].length, rule, mask: '[REDACTED]' });
      }
    }
    return found.sort((a, b) => a.start - b.start);
  };
}
