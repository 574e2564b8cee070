// Rebuilds passages.jsonl from the public-domain sources (see SOURCES.md). Not run by the bench:
// the passages are shipped. Needs `bible` (Debian package bible-kjv) on PATH and the unpacked
// npm package chinese-poetry@2.0.1 at CHINESE_POETRY_DIR.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const BOOKS = [
  ['Gen', 'Genesis', 50],
  ['Ruth', 'Ruth', 4],
  ['Prov', 'Proverbs', 31],
  ['Eccl', 'Ecclesiastes', 12],
  ['Matt', 'Matthew', 28],
  ['John', 'John', 21],
];
const VERSES_PER_PASSAGE = 5;

const passages = [];
for (const [abbr, name, chapters] of BOOKS) {
  for (let c = 1; c <= chapters; c++) {
    const out = execFileSync('bible', ['-f', `${abbr} ${c}:1-200`], { encoding: 'utf8' });
    const verses = out
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => l.replace(/^\S+\s/, '').trim());
    for (let start = 0; start < verses.length; start += VERSES_PER_PASSAGE) {
      let end = Math.min(start + VERSES_PER_PASSAGE, verses.length);
      // a tail of one or two verses joins the passage before it
      if (verses.length - end > 0 && verses.length - end < 3) end = verses.length;
      passages.push({
        id: `kjv-${abbr.toLowerCase()}-${c}-${start + 1}-${end}`,
        lang: 'en',
        source: `KJV ${name} ${c}:${start + 1}-${end}`,
        text: verses.slice(start, end).join(' '),
      });
      start = end - VERSES_PER_PASSAGE;
    }
  }
}

const dir = process.env.CHINESE_POETRY_DIR ?? '/tmp/rdata/package/dist';
const lunyu = JSON.parse(readFileSync(join(dir, 'lunyu/lunyu.json'), 'utf8'));
lunyu.forEach((chapter, ci) => {
  chapter.paragraphs.forEach((p, pi) => {
    passages.push({
      id: `lunyu-${ci + 1}-${pi + 1}`,
      lang: 'zh',
      source: `论语·${chapter.chapter} ${pi + 1}`,
      text: p,
    });
  });
});
const shijing = JSON.parse(readFileSync(join(dir, 'shijing/shijing.json'), 'utf8'));
shijing.forEach((poem, i) => {
  passages.push({
    id: `shijing-${i + 1}`,
    lang: 'zh',
    source: `诗经·${poem.chapter}·${poem.section}·${poem.title}`,
    text: `${poem.title}：${poem.content.join('')}`,
  });
});

writeFileSync(
  new URL('./passages.jsonl', import.meta.url),
  `${passages.map((p) => JSON.stringify(p)).join('\n')}\n`,
);
console.log(`${passages.length} passages`);
