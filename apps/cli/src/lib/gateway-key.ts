import type { Command } from 'commander';
import type OpenAI from 'openai';
import { chatError, createGatewayClient } from './chat-session.ts';
import { CliError, EXIT } from './errors.ts';
import { downloadTarget } from './file-transfer.ts';
import { barsEnabled } from './progress-bar.ts';
import { type Runtime, runtimeOf } from './runtime.ts';

/** A server and an API key for the key-authenticated APIs: /v1 files and batches, /api/v1/async. */
export interface KeyTarget {
  server: string;
  apiKey: string;
}

export const apiKeyOption = <T extends Command>(cmd: T): T =>
  cmd.option(
    '--api-key <key>',
    'API key with the inference scope (default: $MAAS_API_KEY, or the saved one)',
  );

/**
 * Files, batches and async jobs belong to the project of an API key, not to a login: --api-key,
 * else $MAAS_API_KEY, else the key `maas keys create --save` kept in the context, else the key the
 * context logged in with.
 */
export function keyTarget(rt: Runtime, what: string, flag?: string): KeyTarget {
  const active = rt.maybeActive();
  if (!active)
    throw new CliError(
      'not logged in: run `maas login <server>` first (or set $MAAS_SERVER and $MAAS_API_KEY)',
      EXIT.auth,
      'not_logged_in',
    );
  const apiKey = flag ?? process.env.MAAS_API_KEY ?? active.context.inference_key ?? active.context.api_key;
  if (!apiKey)
    throw new CliError(
      `${what} belong to a project's API key, and none is saved: run \`maas keys create <name> --save\`, or give --api-key or $MAAS_API_KEY`,
      EXIT.auth,
      'no_api_key',
    );
  return { server: active.context.server, apiKey };
}

/** The openai SDK against the server's /v1 with that key. */
export async function gatewayClient(target: KeyTarget): Promise<OpenAI> {
  return createGatewayClient(target.server, target.apiKey);
}

/** Runs an SDK call; its errors become one-line CliErrors with the exit code of their status. */
export async function viaSdk<T>(target: KeyTarget, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw chatError(err, target.server);
  }
}

/** The runtime and key of a files/batches/jobs command. */
export function keyed(cmd: Command, what: string) {
  const rt = runtimeOf(cmd);
  const target = keyTarget(rt, what, cmd.opts().apiKey);
  return { rt, target };
}

/** The runtime, key and target file of a download command, whose -o names the file to write. */
export function keyedDownload(cmd: Command, what: string) {
  const globals = cmd.optsWithGlobals<{ output?: string; color?: boolean }>();
  const dest = downloadTarget(globals.output);
  // -o is the file here, not a format: the runtime only prints notes to stderr
  const rt = runtimeOf(cmd, globals.output === undefined ? undefined : [globals.output]);
  const target = keyTarget(rt, what, cmd.opts().apiKey);
  const bars = barsEnabled({ color: globals.color }) && dest !== undefined;
  return { rt, target, dest, bars };
}
