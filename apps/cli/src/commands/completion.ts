import type { Command } from 'commander';
import { usageError } from '../lib/errors.ts';
import { examples } from '../lib/runtime.ts';

interface Node {
  /** canonical path without the program name: `keys create` */
  path: string;
  /** the words that lead here, aliases included: `keys create`, `key create` */
  spellings: string[];
  commands: { name: string; description: string }[];
  options: { flag: string; description: string }[];
}

const visible = (cmd: Command) =>
  cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);

/** Every command of the tree with its subcommands and options, for the shell scripts. */
export function completionTree(program: Command): Node[] {
  const nodes: Node[] = [];
  const globals = program.options.flatMap((o) =>
    [o.long, o.short].filter(Boolean).map((flag) => ({ flag: flag!, description: o.description })),
  );
  const walk = (cmd: Command, path: string, spellings: string[]) => {
    const own =
      cmd === program
        ? []
        : cmd.options.flatMap((o) =>
            [o.long, o.short].filter(Boolean).map((flag) => ({ flag: flag!, description: o.description })),
          );
    nodes.push({
      path,
      spellings,
      commands: visible(cmd).flatMap((c) =>
        [c.name(), ...c.aliases()].map((name) => ({ name, description: c.description() })),
      ),
      options: [...own, ...globals, { flag: '--help', description: 'show help' }],
    });
    for (const child of visible(cmd)) {
      const names = [child.name(), ...child.aliases()];
      const childPath = path ? `${path} ${child.name()}` : child.name();
      const childSpellings = (spellings.length ? spellings : ['']).flatMap((s) =>
        names.map((n) => (s ? `${s} ${n}` : n)),
      );
      walk(child, childPath, childSpellings);
    }
  };
  walk(program, '', []);
  return nodes;
}

const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function bashScript(nodes: Node[]): string {
  const steps = nodes
    .filter((n) => n.path)
    .map((n) => `      ${n.spellings.map((s) => `"${s}"`).join('|')}) path="${n.path}" ;;`)
    .join('\n');
  const words = nodes
    .map(
      (n) =>
        `    "${n.path}") words=${sq([...n.commands.map((c) => c.name), ...n.options.map((o) => o.flag)].join(' '))} ;;`,
    )
    .join('\n');
  return `# bash completion for maas — load with: source <(maas completion bash)
_maas_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" w i words=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && continue
    case "\${path:+$path }$w" in
${steps}
    esac
  done
  case "$path" in
${words}
  esac
  case "$path" in
    "context use"|"context rm") words="$words $(maas context ls --names 2>/dev/null)" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _maas_complete maas
`;
}

export function zshScript(nodes: Node[]): string {
  const esc = (s: string) => s.replace(/:/g, '\\:');
  const steps = nodes
    .filter((n) => n.path)
    .map((n) => `      ${n.spellings.map((s) => `"${s}"`).join('|')}) cmdpath="${n.path}" ;;`)
    .join('\n');
  const lists = nodes
    .map(
      (n) =>
        `    "${n.path}")\n      cmds=(${n.commands.map((c) => sq(`${esc(c.name)}:${c.description}`)).join(' ')})\n      opts=(${n.options.map((o) => sq(`${esc(o.flag)}:${o.description}`)).join(' ')}) ;;`,
    )
    .join('\n');
  return `#compdef maas
# zsh completion for maas — load with: source <(maas completion zsh)
_maas() {
  local cmdpath="" w i
  local -a cmds opts
  for ((i = 2; i < CURRENT; i++)); do
    w="\${words[i]}"
    [[ "$w" == -* ]] && continue
    case "\${cmdpath:+$cmdpath }$w" in
${steps}
    esac
  done
  case "$cmdpath" in
${lists}
  esac
  if [[ "$cmdpath" == "context use" || "$cmdpath" == "context rm" ]]; then
    cmds+=(\${(f)"$(maas context ls --names 2>/dev/null)"})
  fi
  if [[ "\${words[CURRENT]}" == -* ]]; then
    _describe -t options 'option' opts
  else
    _describe -t commands 'command' cmds || _files
  fi
}
if [[ "\${funcstack[1]}" == "_maas" ]]; then _maas "$@"; else compdef _maas maas; fi
`;
}

export function fishScript(nodes: Node[]): string {
  const steps = nodes
    .filter((n) => n.path)
    .map(
      (n) => `            case ${n.spellings.map(sq).join(' ')}\n                set cmdpath ${sq(n.path)}`,
    )
    .join('\n');
  const lines: string[] = [];
  for (const n of nodes) {
    const cond = sq(`__maas_at ${sq(n.path)}`);
    for (const c of n.commands)
      lines.push(`complete -c maas -n ${cond} -a ${sq(c.name)} -d ${sq(c.description)}`);
    for (const o of n.options) {
      const flag = o.flag.startsWith('--') ? `-l ${o.flag.slice(2)}` : `-s ${o.flag.slice(1)}`;
      lines.push(`complete -c maas -n ${cond} ${flag} -d ${sq(o.description)}`);
    }
  }
  return `# fish completion for maas — load with: maas completion fish | source
function __maas_path
    set -l cmdpath ''
    for w in (commandline -opc)[2..-1]
        string match -q -- '-*' $w; and continue
        set -l cand (string trim -- "$cmdpath $w")
        switch $cand
${steps}
        end
    end
    echo $cmdpath
end
function __maas_at
    set -l p (__maas_path)
    test "$p" = "$argv[1]"
end
complete -c maas -f
${lines.join('\n')}
complete -c maas -n '__maas_at "context use"; or __maas_at "context rm"' -a '(maas context ls --names 2>/dev/null)'
`;
}

export function registerCompletionCommand(program: Command): void {
  examples(
    program
      .command('completion')
      .description('print a shell completion script for bash, zsh or fish')
      .argument('<shell>', 'bash, zsh or fish')
      .action((shell: string) => {
        const nodes = completionTree(program);
        const scripts: Record<string, (n: Node[]) => string> = {
          bash: bashScript,
          zsh: zshScript,
          fish: fishScript,
        };
        const make = scripts[shell];
        if (!make) throw usageError(`unknown shell "${shell}": use bash, zsh or fish`);
        process.stdout.write(make(nodes));
      }),
    [
      'source <(maas completion bash)                      # add to ~/.bashrc',
      'source <(maas completion zsh)                       # add to ~/.zshrc',
      'maas completion fish > ~/.config/fish/completions/maas.fish',
    ],
  );
}
