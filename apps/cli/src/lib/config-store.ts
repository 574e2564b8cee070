import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliError, EXIT } from './errors.ts';

/** One named connection: a server and the credentials for it (like a kubeconfig context). */
export interface Context {
  server: string;
  org_id?: string;
  org_name?: string;
  email?: string;
  access_token?: string;
  refresh_token?: string;
  /** ISO time the access token expires; refreshed ahead of it */
  access_expires_at?: string;
  /** logged in with an API key: used for the admin API and for `maas chat` */
  api_key?: string;
  /** an inference key saved by `maas keys create --save`, used by `maas chat` */
  inference_key?: string;
}

export interface ConfigFile {
  current_context: string | null;
  contexts: Record<string, Context>;
}

/** Checks the file's shape by hand (no schema library at start-up): every context needs a server. */
function asConfig(raw: unknown): ConfigFile | null {
  if (!raw || typeof raw !== 'object') return null;
  const { current_context = null, contexts = {} } = raw as Partial<ConfigFile>;
  if (current_context !== null && typeof current_context !== 'string') return null;
  if (!contexts || typeof contexts !== 'object') return null;
  for (const ctx of Object.values(contexts)) {
    if (!ctx || typeof ctx !== 'object' || typeof ctx.server !== 'string') return null;
    for (const v of Object.values(ctx)) if (typeof v !== 'string') return null;
  }
  return { current_context, contexts };
}

/** $MAAS_CONFIG_DIR, else $XDG_CONFIG_HOME/maas, else ~/.config/maas. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MAAS_CONFIG_DIR) return env.MAAS_CONFIG_DIR;
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'maas');
  return join(homedir(), '.config', 'maas');
}

export interface ConfigStore {
  readonly path: string;
  read(): ConfigFile;
  write(config: ConfigFile): void;
  /** read, change, write */
  update(change: (config: ConfigFile) => void): ConfigFile;
}

/** The config file (`config.json`, mode 0600, in a 0700 directory); written atomically. */
export function createConfigStore(dir = configDir()): ConfigStore {
  const path = join(dir, 'config.json');
  const store: ConfigStore = {
    path,
    read() {
      if (!existsSync(path)) return { current_context: null, contexts: {} };
      let raw: unknown;
      try {
        raw = JSON.parse(readFileSync(path, 'utf8'));
      } catch (err) {
        throw new CliError(`cannot read ${path}: ${(err as Error).message}`, EXIT.general);
      }
      const config = asConfig(raw);
      if (!config) throw new CliError(`${path} is not a valid maas config file`, EXIT.general);
      return config;
    },
    write(config) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
      chmodSync(tmp, 0o600);
      renameSync(tmp, path);
    },
    update(change) {
      const config = store.read();
      change(config);
      store.write(config);
      return config;
    },
  };
  return store;
}

/** A context name from a server URL: its host and port (`127.0.0.1:8080`, `maas.example.com`). */
export function contextNameFor(server: string): string {
  try {
    return new URL(server).host;
  } catch {
    return server;
  }
}

/** Normalises what a user typed as a server (`localhost:8080` → `http://localhost:8080`). */
export function normalizeServer(input: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(input) ? input : `http://${input}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new CliError(`not a valid server URL: ${input}`, EXIT.usage, 'usage');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new CliError(`not an http(s) server URL: ${input}`, EXIT.usage, 'usage');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

export interface ActiveContext {
  /** null when the context comes from MAAS_SERVER alone */
  name: string | null;
  context: Context;
}

/**
 * The context a command uses: --context, else $MAAS_CONTEXT, else the current one. $MAAS_SERVER
 * (with $MAAS_API_KEY) works without any config file, for scripts and CI.
 */
export function activeContext(
  store: ConfigStore,
  explicit: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ActiveContext | null {
  const config = store.read();
  const name = explicit ?? env.MAAS_CONTEXT ?? (env.MAAS_SERVER ? undefined : config.current_context);
  if (name) {
    const context = config.contexts[name];
    if (!context)
      throw new CliError(`no context named "${name}" (see: maas context ls)`, EXIT.usage, 'usage');
    return { name, context: withEnvKey(context, env) };
  }
  if (env.MAAS_SERVER)
    return { name: null, context: withEnvKey({ server: normalizeServer(env.MAAS_SERVER) }, env) };
  return null;
}

function withEnvKey(context: Context, env: NodeJS.ProcessEnv): Context {
  return env.MAAS_API_KEY ? { ...context, api_key: env.MAAS_API_KEY } : context;
}
