import { createRequire } from 'node:module';

type Tokenizer = typeof import('gpt-tokenizer');

let loaded: Tokenizer | undefined;

/**
 * gpt-tokenizer (o200k), loaded on first use: its ranks hold ~55 MB resident, which a gateway
 * whose upstreams report usage never needs. One copy for every caller (its CommonJS build,
 * which can be loaded synchronously where the caller is).
 */
export function tokenizer(): Tokenizer {
  loaded ??= createRequire(import.meta.url)('gpt-tokenizer') as Tokenizer;
  return loaded;
}
