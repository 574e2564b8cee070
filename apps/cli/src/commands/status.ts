import type { Command } from 'commander';
import { type ResponseOf, send } from '../lib/api-client.ts';
import { normalizeServer } from '../lib/config-store.ts';
import { CliError, EXIT } from '../lib/errors.ts';
import { paintStatus } from '../lib/output.ts';
import { examples, runtimeOf } from '../lib/runtime.ts';

type Health = NonNullable<ResponseOf<'/api/v1/providers/{id}'>['health']>;
type Probe = ResponseOf<'/api/v1/providers/{id}/test', 'POST'>;

/** One provider in the report `maas status` prints. */
interface ProviderStatus {
  id: string;
  name: string;
  type: string;
  status: string;
  error_rate: number | null;
  last_probe: Health['last_probe'];
  test?: Pick<Probe, 'ok' | 'latency_ms' | 'error'>;
}

interface StatusReport {
  server: string;
  platform: { status: string; checks: Record<string, string> };
  providers: ProviderStatus[] | null;
  healthy: boolean;
}

export function registerStatusCommand(program: Command): void {
  examples(
    program
      .command('status')
      .description('health of the platform and of each provider (exit 1 if anything is unhealthy)')
      .option('--probe', 'test every provider connection now instead of reporting the last probe')
      .option('--server <url>', 'server URL (default: the current context)')
      .action(async (opts: { probe?: boolean; server?: string }, cmd: Command) => {
        const rt = runtimeOf(cmd);
        const active = opts.server ? null : rt.maybeActive();
        const server = opts.server ? normalizeServer(opts.server) : active?.context.server;
        if (!server)
          throw new CliError('no server: run `maas login` or give --server', EXIT.auth, 'not_logged_in');
        const spin = rt.out.progress(`checking ${server}`);
        const report = await gather(rt, server, Boolean(active), Boolean(opts.probe)).finally(() =>
          spin.stop(),
        );
        rt.out.print(report, () => {
          const { c } = rt.out;
          rt.out.line(`${c.bold('platform')} ${server}: ${paintStatus(report.platform.status, c)}`);
          for (const [k, v] of Object.entries(report.platform.checks))
            rt.out.line(`  ${k}: ${paintStatus(v, c)}`);
          rt.out.line();
          if (!report.providers) {
            rt.out.note('providers: log in to see their health');
            return;
          }
          rt.out.table(report.providers, [
            { header: 'provider', value: (p) => p.name },
            { header: 'type', value: (p) => p.type },
            { header: 'status', value: (p) => p.status, paint: (t, _p, cc) => paintStatus(t, cc) },
            {
              header: 'errors',
              value: (p) => (p.error_rate === null ? null : `${(p.error_rate * 100).toFixed(1)}%`),
            },
            { header: 'latency', value: (p) => latencyOf(p) },
            { header: 'last error', value: (p) => (p.test ?? p.last_probe)?.error ?? null },
          ]);
        });
        if (!report.healthy)
          throw new CliError('the platform or a provider is unhealthy', EXIT.general, 'check_failed');
      }),
    ['maas status', 'maas status --probe', 'maas status -o json | jq .providers'],
  );
}

function latencyOf(p: ProviderStatus): string | null {
  const probe = p.test ?? p.last_probe;
  return probe ? `${probe.latency_ms} ms` : null;
}

async function gather(
  rt: ReturnType<typeof runtimeOf>,
  server: string,
  loggedIn: boolean,
  probe: boolean,
): Promise<StatusReport> {
  const ready = await send(server, 'GET', '/readyz', { auth: false });
  const platform =
    ready.body && typeof ready.body === 'object'
      ? (ready.body as StatusReport['platform'])
      : { status: ready.status === 200 ? 'ready' : 'not_ready', checks: {} };
  let providers: ProviderStatus[] | null = null;
  if (loggedIn) {
    const api = rt.api();
    const rows = await api.list('/api/v1/providers');
    providers = await Promise.all(
      rows.map(async (row): Promise<ProviderStatus> => {
        const params = { id: row.id };
        const health = row.health ?? (await api.request('GET', '/api/v1/providers/{id}', { params })).health;
        const test = probe
          ? await api.request('POST', '/api/v1/providers/{id}/test', { params, body: {} })
          : undefined;
        return {
          id: row.id,
          name: row.name,
          type: row.type,
          status: test ? (test.ok ? 'healthy' : 'unhealthy') : (health?.status ?? 'unknown'),
          error_rate: health?.error_rate ?? null,
          last_probe: health?.last_probe ?? null,
          ...(test ? { test: { ok: test.ok, latency_ms: test.latency_ms, error: test.error } } : {}),
        };
      }),
    );
  }
  const healthy = ready.status === 200 && (providers ?? []).every((p) => p.status !== 'unhealthy');
  return { server, platform, providers, healthy };
}
