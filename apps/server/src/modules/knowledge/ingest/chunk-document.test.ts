import { describe, expect, it } from 'vitest';
import { chunkDocument, indexedText, sectionsByHeading } from './chunk-document.ts';

const guide = [
  '# Guide',
  'Read this first.',
  '## Install',
  'Run the installer. It takes a minute.',
  '```',
  '# not a heading inside a fence',
  '```',
  '### On Linux',
  'Use the tarball.',
  '## Use',
  'Start it with maas serve.',
].join('\n');

describe('sectionsByHeading', () => {
  it('cuts at headings, keeps each section’s heading path and skips fenced code', () => {
    const sections = sectionsByHeading(guide);
    expect(sections.map((s) => s.headings)).toEqual([
      ['Guide'],
      ['Guide', 'Install'],
      ['Guide', 'Install', 'On Linux'],
      ['Guide', 'Use'],
    ]);
    expect(sections[1]!.text).toContain('# not a heading inside a fence');
    expect(sections.map((s) => s.text).join('\n')).toBe(guide);
  });

  it('gives text before the first heading an empty path', () => {
    expect(sectionsByHeading('preface\n# A\nbody')).toEqual([
      { headings: [], text: 'preface' },
      { headings: ['A'], text: '# A\nbody' },
    ]);
  });
});

describe('chunkDocument', () => {
  it('heading: no chunk straddles two sections; each carries its path', () => {
    const chunks = chunkDocument(guide, {
      max_chunk_size_tokens: 100,
      chunk_overlap_tokens: 0,
      splitter: 'heading',
    });
    expect(chunks).toHaveLength(4);
    expect(chunks[2]).toMatchObject({ headings: ['Guide', 'Install', 'On Linux'], context: null });
    expect(chunks[2]!.text).toBe('### On Linux\nUse the tarball.');
  });

  it('heading: long sections are cut further, later pieces indexed under their path', () => {
    const long = `# Rivers\n${Array.from({ length: 200 }, (_, i) => `River ${i} flows north.`).join(' ')}`;
    const chunks = chunkDocument(long, {
      max_chunk_size_tokens: 100,
      chunk_overlap_tokens: 0,
      splitter: 'heading',
    });
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.every((c) => c.headings?.[0] === 'Rivers')).toBe(true);
    expect(indexedText(chunks[0]!)).toBe(chunks[0]!.text);
    expect(indexedText(chunks[1]!)).toBe(`Rivers\n${chunks[1]!.text}`);
  });

  it('parent_child: small children answer with their parent; the children cover the text', () => {
    const text = Array.from({ length: 120 }, (_, i) => `Fact ${i} concerns the moon.`).join(' ');
    const chunks = chunkDocument(text, {
      max_chunk_size_tokens: 100,
      chunk_overlap_tokens: 0,
      splitter: 'parent_child',
      parent_chunk_size_tokens: 400,
    });
    const children = chunks.filter((c) => c.context !== null);
    expect(new Set(children.map((c) => c.context)).size).toBeGreaterThan(1);
    expect(children.length).toBeGreaterThan(chunks.length / 2);
    for (const c of chunks) expect(c.tokens).toBeLessThanOrEqual(100);
    // a parent with one child is that child: it answers with itself
    for (const c of children) expect(c.context).toContain(c.text);
    expect(chunks.map((c) => c.text).join(' ')).toBe(text);
  });

  it('recursive (the default) and Chinese sentence ends: 。！？； end chunks', () => {
    const zh = Array.from(
      { length: 120 },
      (_, i) => `第${i}条：月亮绕着地球转${['。', '！', '？', '；'][i % 4]}`,
    ).join('');
    const chunks = chunkDocument(zh, { max_chunk_size_tokens: 100, chunk_overlap_tokens: 0 });
    expect(chunks.length).toBeGreaterThan(3);
    for (const c of chunks.slice(0, -1)) expect(/[。！？；]$/.test(c.text)).toBe(true);
    expect(chunks.every((c) => c.headings === null && c.context === null)).toBe(true);
  });
});
