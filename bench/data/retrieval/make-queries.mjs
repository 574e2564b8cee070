// Builds queries.jsonl and qrels.tsv from queries-written.tsv (language, query, references) and
// passages.jsonl. An English reference is a verse ("Gen 4:8"): the passage holding that verse is
// relevant. A Chinese reference is a phrase of the original text: every passage containing it is
// relevant (a saying the Analects quotes from the Book of Songs is relevant in both).
import { readFileSync, writeFileSync } from 'node:fs';

const here = (f) => new URL(`./${f}`, import.meta.url);
const passages = readFileSync(here('passages.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l));
const lines = readFileSync(here('queries-written.tsv'), 'utf8').trim().split('\n');

function resolve(lang, ref) {
  if (lang === 'en') {
    const m = /^(\w+) (\d+):(\d+)$/.exec(ref);
    if (!m) throw new Error(`bad verse reference ${ref}`);
    const [, book, chapter, verse] = m;
    const prefix = `kjv-${book.toLowerCase()}-${chapter}-`;
    return passages
      .filter((p) => p.id.startsWith(prefix))
      .filter((p) => {
        const [from, to] = p.id.slice(prefix.length).split('-').map(Number);
        return Number(verse) >= from && Number(verse) <= to;
      })
      .map((p) => p.id);
  }
  return passages.filter((p) => p.lang === 'zh' && p.text.includes(ref)).map((p) => p.id);
}

const queries = [];
const qrels = [];
const missing = [];
lines.forEach((line, i) => {
  const [lang, text, refs] = line.split('\t');
  const id = `q${String(i + 1).padStart(3, '0')}`;
  const relevant = new Set();
  for (const ref of refs.split(';').map((r) => r.trim())) {
    const ids = resolve(lang, ref);
    if (ids.length === 0) missing.push(`${id}: no passage for ${ref}`);
    if (ids.length > 2) console.warn(`${id}: ${ref} matches ${ids.length} passages`);
    for (const p of ids) relevant.add(p);
  }
  queries.push({ id, lang, text });
  for (const p of relevant) qrels.push(`${id}\t${p}\t1`);
});
if (missing.length > 0) throw new Error(missing.join('\n'));
writeFileSync(here('queries.jsonl'), `${queries.map((q) => JSON.stringify(q)).join('\n')}\n`);
writeFileSync(here('qrels.tsv'), `query_id\tpassage_id\trelevance\n${qrels.join('\n')}\n`);
console.log(`${queries.length} queries, ${qrels.length} relevance labels`);
