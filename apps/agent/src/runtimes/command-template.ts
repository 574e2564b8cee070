import { AppliedTemplateError } from '@maas/contracts/agent';

/** Splits a command line into words: whitespace separates, single and double quotes group; no shell. */
export function splitCommand(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote: '"' | "'" | null = null;
  let started = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      started = true;
    } else if (/\s/.test(ch)) {
      if (started || word) words.push(word);
      word = '';
      started = false;
    } else if (ch === '\\' && i + 1 < line.length) {
      word += line[++i];
    } else {
      word += ch;
    }
  }
  if (quote) throw new AppliedTemplateError('unbalanced quote in command');
  if (started || word) words.push(word);
  if (words.length === 0) throw new AppliedTemplateError('empty command');
  return words;
}

/** Replaces `{name}` placeholders; an unknown placeholder is an error rather than a silent gap. */
export function fillTemplate(word: string, values: Record<string, string>): string {
  return word.replace(/\{([a-z_]+)\}/g, (_, key: string) => {
    const v = values[key];
    if (v === undefined) throw new AppliedTemplateError(`unknown placeholder {${key}} in command`);
    return v;
  });
}
