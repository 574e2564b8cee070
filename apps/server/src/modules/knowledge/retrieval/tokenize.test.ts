import { describe, expect, it } from 'vitest';
import { tokenizeForIndex } from './tokenize.ts';

describe('tokenizeForIndex', () => {
  it('lower-cases, drops English stop words and stems what is left', () => {
    expect(tokenizeForIndex('The Databases are RUNNING quickly')).toEqual(['databas', 'run', 'quickli']);
  });

  it('segments Chinese with jieba in search mode: a long word also yields its parts', () => {
    const terms = tokenizeForIndex('床前明月光，疑是地上霜。');
    expect(terms).toEqual(expect.arrayContaining(['明月光', '月光', '明月', '地上', '霜']));
    // punctuation is no term
    expect(terms).not.toContain('，');
    expect(terms).not.toContain('。');
  });

  it('drops Chinese stop words', () => {
    const terms = tokenizeForIndex('我的朋友和他的老师');
    expect(terms).toEqual(expect.arrayContaining(['朋友', '老师']));
    for (const stop of ['的', '和', '我', '他']) expect(terms).not.toContain(stop);
  });

  it('handles mixed Chinese, English and numbers in one text', () => {
    const terms = tokenizeForIndex('使用PostgreSQL数据库存储2024年的向量embeddings');
    expect(terms).toEqual(expect.arrayContaining(['postgresql', '数据库', '存储', '2024', '向量', 'embed']));
  });

  it('keeps words of other scripts and full-width forms (NFKC)', () => {
    expect(tokenizeForIndex('Ｃａｆé déjà-vu Москва')).toEqual(['café', 'déjà', 'vu', 'москва']);
  });

  it('gives nothing for punctuation or stop words alone', () => {
    expect(tokenizeForIndex('... the of, 的！')).toEqual([]);
  });
});
