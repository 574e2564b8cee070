import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { bashScript, completionTree, fishScript, zshScript } from '../src/commands/completion.ts';
import { buildProgram } from '../src/program.ts';

function allCommands(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(allCommands)];
}

function helpOf(cmd: Command): string {
  let text = '';
  cmd.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  cmd.outputHelp();
  return text;
}

const has = (shell: string) => spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0;

describe('--help', () => {
  it('every command has a description and examples', () => {
    const program = buildProgram();
    const missing = allCommands(program)
      .filter((c) => c.name() !== 'help')
      .filter((c) => !c.description() || !helpOf(c).includes('\nExamples:\n'))
      .map((c) => c.name());
    expect(missing).toEqual([]);
  });

  it('documents the exit codes', () => {
    const help = helpOf(buildProgram());
    for (const code of ['0  success', '2  usage', '3  auth', '4  not found', '5  refused', '6  server error'])
      expect(help).toContain(code);
  });
});

describe('shell completion', () => {
  const nodes = completionTree(buildProgram());
  const dir = mkdtempSync(join(tmpdir(), 'maas-completion-'));

  it('knows every command path, with aliases', () => {
    const keysCreate = nodes.find((n) => n.path === 'keys create')!;
    expect(keysCreate.spellings).toEqual(['keys create', 'key create']);
    expect(keysCreate.options.map((o) => o.flag)).toEqual(
      expect.arrayContaining(['--project', '--expires-in', '--output']),
    );
    expect(nodes.find((n) => n.path === '')!.commands.map((c) => c.name)).toEqual(
      expect.arrayContaining(['login', 'apply', 'chat']),
    );
  });

  it('bash: completes commands and options', () => {
    const file = join(dir, 'maas.bash');
    writeFileSync(file, bashScript(nodes));
    const complete = (words: string) =>
      execFileSync(
        'bash',
        [
          '-c',
          `source ${file}; COMP_WORDS=(${words}); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _maas_complete; echo "\${COMPREPLY[@]}"`,
        ],
        {
          encoding: 'utf8',
        },
      ).trim();
    expect(complete('maas ap')).toBe('apply');
    expect(complete('maas key create --exp')).toBe('--expires-in --expires-at');
    expect(complete('maas -o json models tr')).toBe('traffic');
  });

  it.skipIf(!has('zsh'))('zsh: the script parses', () => {
    const file = join(dir, '_maas');
    writeFileSync(file, zshScript(nodes));
    expect(spawnSync('zsh', ['-n', file]).status).toBe(0);
  });

  it.skipIf(!has('fish'))('fish: completes commands', () => {
    const file = join(dir, 'maas.fish');
    writeFileSync(file, fishScript(nodes));
    const out = execFileSync('fish', ['-c', `source ${file}; complete -C "maas keys cr"`], {
      encoding: 'utf8',
    });
    expect(out).toMatch(/^create\tcreate a key$/m);
  });
});
