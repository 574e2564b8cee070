import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { usageError } from './errors.ts';

/** Prompts only make sense when a person is at the terminal. */
export const interactive = () => Boolean(process.stdin.isTTY && process.stderr.isTTY);

/** Asks a question on stderr; `hidden` does not echo what is typed (passwords). */
export function ask(question: string, opts: { hidden?: boolean; missing?: string } = {}): Promise<string> {
  if (!interactive()) throw usageError(opts.missing ?? `${question.replace(/[:?]\s*$/, '')} is required`);
  let muted = false;
  const output = new Writable({
    write(chunk, _enc, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  return new Promise((resolve) => {
    rl.question(question, (answer) => {
      rl.close();
      if (opts.hidden) process.stderr.write('\n');
      resolve(answer.trim());
    });
    muted = Boolean(opts.hidden);
  });
}

/** Yes/no on a terminal; `true` without asking when nobody is there to answer. */
export async function confirm(question: string): Promise<boolean> {
  if (!interactive()) return true;
  const answer = await ask(`${question} [y/N] `);
  return /^y(es)?$/i.test(answer);
}
