import { countTokens } from 'gpt-tokenizer';
import { describe, expect, it } from 'vitest';
import { cleanText, splitText } from './split.ts';

const english = Array.from(
  { length: 300 },
  (_, i) => `Sentence number ${i} talks about topic ${i % 7}.`,
).join(' ');
const chinese = Array.from({ length: 300 }, (_, i) => `这是第${i}个句子，它讨论主题${i % 7}。`).join('');

describe('splitText', () => {
  it('keeps every chunk within the token limit and overlaps neighbours by up to the overlap', () => {
    const chunks = splitText(english, { max_chunk_size_tokens: 200, chunk_overlap_tokens: 50 });
    expect(chunks.length).toBeGreaterThan(10);
    for (const c of chunks) {
      expect(c.tokens).toBeLessThanOrEqual(200);
      expect(c.tokens).toBe(countTokens(c.text));
    }
    // the second chunk starts with sentences the first one ended with
    const firstSentence = chunks[1]!.text.split('.')[0]!;
    expect(chunks[0]!.text).toContain(firstSentence);
  });

  it('cuts Chinese text at its full stops, not inside a sentence', () => {
    const chunks = splitText(chinese, { max_chunk_size_tokens: 100, chunk_overlap_tokens: 0 });
    expect(chunks.length).toBeGreaterThan(5);
    for (const c of chunks.slice(0, -1)) expect(c.text.endsWith('。')).toBe(true);
    expect(chunks.map((c) => c.text).join('')).toBe(chinese);
  });

  it('cleans control characters and blank runs; the chunks hold all the text', () => {
    const text = cleanText(`# Title\r\n\r\n\r\n\r\n${english}\n\n${chinese}\u0007`);
    const chunks = splitText(text, { max_chunk_size_tokens: 150, chunk_overlap_tokens: 0 });
    expect(
      chunks
        .map((c) => c.text)
        .join('')
        .replace(/\s/g, ''),
    ).toBe(text.replace(/\s/g, ''));
    expect(text.includes('\u0007') || text.includes('\r') || text.includes('\n\n\n')).toBe(false);
  });

  it('cuts a run without any separator by tokens', () => {
    const chunks = splitText('x'.repeat(20_000), { max_chunk_size_tokens: 100, chunk_overlap_tokens: 0 });
    expect(chunks.every((c) => c.tokens <= 100)).toBe(true);
    expect(chunks.map((c) => c.text).join('')).toBe('x'.repeat(20_000));
  });
});
