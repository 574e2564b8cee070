import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type OpenAI from 'openai';
import { chatError, createGatewayClient, type Message, sendTurn, statsLine } from '../lib/chat-session.ts';
import { normalizeServer } from '../lib/config-store.ts';
import { CliError, EXIT, usageError } from '../lib/errors.ts';
import type { Output } from '../lib/output.ts';
import { examples, parseInteger, parseNumber, readStdin, runtimeOf } from '../lib/runtime.ts';

interface ChatOptions {
  model?: string;
  message?: string;
  system?: string;
  apiKey?: string;
  server?: string;
  stats?: boolean;
  stream: boolean;
  temperature?: number;
  maxTokens?: number;
}

interface Session {
  client: OpenAI;
  server: string;
  model: string;
  system: string | undefined;
  history: Message[];
  opts: ChatOptions;
  out: Output;
}

const HELP = `commands:
  /model [name]    show or switch the model
  /system [text]   show or set the system prompt (/system - clears it)
  /reset           forget the conversation
  /stats           toggle token and latency figures
  /exit            leave (or Ctrl-D)`;

const messagesOf = (s: Session, user: string): Message[] => [
  ...(s.system ? [{ role: 'system' as const, content: s.system }] : []),
  ...s.history,
  { role: 'user', content: user },
];

/** The first model the key may call, when none is named. */
async function defaultModel(client: OpenAI, server: string): Promise<string> {
  let first: string | undefined;
  try {
    const page = await client.models.list();
    first = page.data[0]?.id;
  } catch (err) {
    throw chatError(err, server);
  }
  if (!first)
    throw new CliError('this key may call no model: give --model or create one', EXIT.notFound, 'not_found');
  return first;
}

async function oneShot(s: Session, text: string): Promise<void> {
  const json = !s.out.human;
  const result = await sendTurn(s.client, {
    model: s.model,
    messages: messagesOf(s, text),
    stream: s.opts.stream,
    temperature: s.opts.temperature,
    maxTokens: s.opts.maxTokens,
    onText: json ? undefined : (t) => process.stdout.write(t),
  }).catch((err) => {
    throw chatError(err, s.server);
  });
  if (json) s.out.print(result, () => {});
  else {
    process.stdout.write(result.content.endsWith('\n') ? '' : '\n');
    if (s.opts.stats) s.out.note(s.out.c.dim(statsLine(result)));
  }
}

/** Handles a `/command`; returns false to leave. */
function slash(s: Session, line: string): boolean {
  const [command, ...rest] = line.slice(1).split(' ');
  const arg = rest.join(' ').trim();
  const say = (t: string) => s.out.line(s.out.c.dim(t));
  switch (command) {
    case 'exit':
    case 'quit':
      return false;
    case 'model':
      if (arg) s.model = arg;
      say(`model: ${s.model}`);
      break;
    case 'system':
      if (arg) s.system = arg === '-' ? undefined : arg;
      say(`system: ${s.system ?? '(none)'}`);
      break;
    case 'reset':
      s.history = [];
      say('conversation cleared');
      break;
    case 'stats':
      s.opts.stats = !s.opts.stats;
      say(`stats ${s.opts.stats ? 'on' : 'off'}`);
      break;
    default:
      say(HELP);
  }
  return true;
}

/** Sends one turn of the session and prints the answer as it streams; Ctrl-C stops it. */
async function answer(
  s: Session,
  text: string,
  track: (ctrl: AbortController | null) => void,
): Promise<void> {
  const { c } = s.out;
  const ctrl = new AbortController();
  track(ctrl);
  process.stdout.write(c.green(`${s.model} › `));
  try {
    const result = await sendTurn(s.client, {
      model: s.model,
      messages: messagesOf(s, text),
      stream: s.opts.stream,
      temperature: s.opts.temperature,
      maxTokens: s.opts.maxTokens,
      signal: ctrl.signal,
      onText: (t) => process.stdout.write(t),
    });
    process.stdout.write('\n');
    if (result.aborted) s.out.line(c.dim('(stopped)'));
    s.history.push({ role: 'user', content: text }, { role: 'assistant', content: result.content });
    if (s.opts.stats) s.out.line(c.dim(statsLine(result)));
  } catch (err) {
    process.stdout.write('\n');
    s.out.line(c.red(`error: ${chatError(err, s.server).message}`));
  } finally {
    track(null);
  }
}

async function interactiveLoop(s: Session): Promise<void> {
  const { c } = s.out;
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  let inflight: AbortController | null = null;
  rl.on('SIGINT', () => {
    if (inflight) inflight.abort();
    else rl.close();
  });
  s.out.line(c.dim(`chatting with ${s.model} on ${s.server} — /help for commands, Ctrl-D to leave`));
  rl.setPrompt(c.cyan('you › '));
  rl.prompt();
  // the iterator queues lines typed while an answer streams, so none is lost
  for await (const line of rl) {
    const text = line.trim();
    if (text.startsWith('/')) {
      if (!slash(s, text)) break;
    } else if (text) {
      await answer(s, text, (ctrl) => {
        inflight = ctrl;
      });
    }
    rl.prompt();
  }
  rl.close();
}

async function chat(cmd: Command, opts: ChatOptions): Promise<void> {
  const rt = runtimeOf(cmd);
  const active = opts.server ? null : rt.maybeActive();
  const server = opts.server ? normalizeServer(opts.server) : active?.context.server;
  if (!server) throw new CliError('no server: run `maas login` or give --server', EXIT.auth, 'not_logged_in');
  const apiKey =
    opts.apiKey ?? process.env.MAAS_API_KEY ?? active?.context.inference_key ?? active?.context.api_key;
  if (!apiKey)
    throw new CliError(
      'maas chat needs an API key with the inference scope: run `maas keys create chat --save`, or give --api-key or $MAAS_API_KEY',
      EXIT.auth,
      'no_api_key',
    );
  const client = await createGatewayClient(server, apiKey);
  const model = opts.model ?? process.env.MAAS_MODEL ?? (await defaultModel(client, server));
  const session: Session = { client, server, model, system: opts.system, history: [], opts, out: rt.out };

  if (opts.message !== undefined) return oneShot(session, opts.message);
  if (!process.stdin.isTTY) {
    const text = (await readStdin()).trim();
    if (!text) throw usageError('nothing to send: standard input was empty (give -m "…")');
    return oneShot(session, text);
  }
  return interactiveLoop(session);
}

export function registerChatCommand(program: Command): void {
  examples(
    program
      .command('chat')
      .description(
        'chat with a model through the gateway: interactive, or one-shot with -m or standard input',
      )
      .option('--model <model>', 'model name or alias ($MAAS_MODEL; default: the first the key may call)')
      .option('-m, --message <text>', 'send one message, print the answer and exit')
      .option('-s, --system <text>', 'system prompt')
      .option('--api-key <key>', 'inference API key ($MAAS_API_KEY; default: the key saved in the context)')
      .option('--server <url>', 'server URL (default: the current context)')
      .option('--stats', 'print tokens and latency after each answer (to stderr when one-shot)')
      .option('--no-stream', 'wait for the whole answer instead of streaming it')
      .option('--temperature <t>', 'sampling temperature', parseNumber)
      .option('--max-tokens <n>', 'at most this many tokens in the answer', parseInteger)
      .addHelpText('after', `\nIn a session:\n${HELP.replace('commands:\n', '')}\n`)
      .action(async (opts: ChatOptions, cmd: Command) => chat(cmd, opts)),
    [
      'maas chat                                      # interactive, streaming',
      'maas chat --model chat-small -m "Say hi" --stats',
      'git diff | maas chat -s "Review this diff"',
      'maas chat -m "2+2?" -o json | jq .usage',
    ],
  );
}
