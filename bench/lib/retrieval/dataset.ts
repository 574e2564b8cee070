import { readFileSync } from 'node:fs';

export interface Passage {
  id: string;
  lang: 'en' | 'zh';
  source: string;
  text: string;
}
export interface Query {
  id: string;
  lang: 'en' | 'zh';
  text: string;
  relevant: Map<string, number>;
}

const DATA = new URL('../../data/retrieval/', import.meta.url);
const jsonl = <T>(file: string): T[] =>
  readFileSync(new URL(file, DATA), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as T);

/** The shipped labelled set (bench/data/retrieval, see SOURCES.md there). */
export function loadLabelledSet(): { passages: Passage[]; queries: Query[] } {
  const passages = jsonl<Passage>('passages.jsonl');
  const qrels = new Map<string, Map<string, number>>();
  for (const line of readFileSync(new URL('qrels.tsv', DATA), 'utf8').trim().split('\n').slice(1)) {
    const [q, p, rel] = line.split('\t');
    if (!q || !p) continue;
    if (!qrels.has(q)) qrels.set(q, new Map());
    qrels.get(q)?.set(p, Number(rel));
  }
  const queries = jsonl<Omit<Query, 'relevant'>>('queries.jsonl').map((q) => ({
    ...q,
    relevant: qrels.get(q.id) ?? new Map<string, number>(),
  }));
  return { passages, queries };
}
