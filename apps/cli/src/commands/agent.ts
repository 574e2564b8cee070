import { connect } from 'node:net';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { RUNTIMES, type RuntimeName } from '@maas/contracts/agent';
import type { Command } from 'commander';
import { usageError } from '../lib/errors.ts';
import { collect, examples } from '../lib/runtime.ts';

interface AgentOpts {
  server?: string;
  token?: string;
  name?: string;
  dataDir?: string;
  label?: string[];
  address?: string;
  bind?: string;
  ports?: string;
  modelDir?: string[];
  heartbeatMs?: string;
  outboundAllow?: string;
  runtimes?: string;
  stopRuntimesOnExit?: boolean;
}

function labelsOf(pairs: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw usageError(`--label wants key=value, got "${pair}"`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

function portsOf(text: string): [number, number] {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(text);
  const range = m ? ([Number(m[1]), Number(m[2])] as [number, number]) : null;
  if (!range || range[0] < 1 || range[1] > 65535 || range[0] > range[1])
    throw usageError(`--ports wants FROM-TO, got "${text}"`);
  return range;
}

function runtimesOf(text: string | undefined): RuntimeName[] | undefined {
  if (!text) return undefined;
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = names.filter((n) => !(RUNTIMES as readonly string[]).includes(n));
  if (bad.length) throw usageError(`unknown runtime ${bad.join(', ')}: use ${RUNTIMES.join(', ')}`);
  return names as RuntimeName[];
}

/** The address this machine reaches the server from: the node's address when --address is not given. */
function localAddressTowards(server: string): Promise<string> {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw usageError(`--server wants a URL, got "${server}"`);
  }
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port, timeout: 10_000 });
    const fail = (why: string) => {
      socket.destroy();
      reject(usageError(`cannot reach ${url.host} to learn this node's address (${why}): pass --address`));
    };
    socket.once('connect', () => {
      const local = socket.localAddress?.replace(/^::ffff:/, '');
      socket.destroy();
      if (local) resolve(local);
      else reject(usageError("cannot tell this node's address: pass --address"));
    });
    socket.once('timeout', () => fail('timed out'));
    socket.once('error', (err) => fail(err.message));
  });
}

export function registerAgentCommand(program: Command): void {
  const cmd = program
    .command('agent')
    .description('run the node agent: join the fleet, report GPUs, run the model replicas the server assigns')
    .option('--server <url>', 'the maas server (MAAS_SERVER)')
    .option(
      '--token <join-token>',
      'join token from `POST /api/v1/join-tokens`, needed the first time only (MAAS_JOIN_TOKEN)',
    )
    .option('--name <name>', 'node name (default: the hostname)')
    .option(
      '--data-dir <dir>',
      'node credential, downloads and runtime state (MAAS_AGENT_DATA_DIR, default ./.maas-agent)',
    )
    .option('--label <key=value>', 'a node label for placement selectors (repeatable)', collect)
    .option(
      '--address <host>',
      'the node address: the server reaches runtimes there (default: the local address this machine reaches the server from)',
    )
    .option(
      '--bind <host>',
      'address runtimes listen on (default: the node address; never all interfaces unless you say 0.0.0.0)',
    )
    .option(
      '--ports <from-to>',
      'ports runtimes may use (default 30000-30999, below the ephemeral port range)',
    )
    .option(
      '--model-dir <dir>',
      'a directory of model files to report, for placement by file locality (repeatable)',
      collect,
    )
    .option('--heartbeat-ms <ms>', 'report interval (default: what the server says, 5000)')
    .option(
      '--outbound-allow <list>',
      'private hosts/CIDRs model downloads may reach, e.g. 10.0.0.0/8,mirror.internal (MAAS_OUTBOUND_ALLOW; default: none)',
    )
    .option('--runtimes <list>', `runtimes to offer (default: those found here; $RUNTIMES.join(', '))`)
    .option(
      '--stop-runtimes-on-exit',
      'stop the runtimes when the agent stops (default: leave them for the next agent to adopt)',
    )
    .action(async (opts: AgentOpts) => {
      // Model files, runtime logs and replica credentials the agent writes are owner-only.
      process.umask(0o077);
      const server = opts.server ?? process.env.MAAS_SERVER;
      if (!server) throw usageError('--server is required (or MAAS_SERVER)');
      const dataDir = resolve(opts.dataDir ?? process.env.MAAS_AGENT_DATA_DIR ?? '.maas-agent');
      const name =
        opts.name ??
        hostname()
          .replace(/[^A-Za-z0-9._-]/g, '-')
          .slice(0, 63);
      const labels = labelsOf(opts.label);
      // Replicas listen on the node's own address only (each also requires its credential).
      const address = opts.address ?? (await localAddressTowards(server));
      // Loaded only when an agent runs: it pulls in node-llama-cpp and the runtimes, which would
      // slow every other `maas` command down.
      const { createAgent, createHttpTransport } = await import('@maas/agent');
      const agent = await createAgent({
        transport: createHttpTransport({
          server,
          joinToken: opts.token ?? process.env.MAAS_JOIN_TOKEN,
          dataDir,
          name,
          hostname: hostname(),
          labels,
        }),
        dataDir,
        address,
        bindHost: opts.bind ?? address,
        ...(opts.ports ? { portRange: portsOf(opts.ports) } : {}),
        modelDirs: (opts.modelDir ?? []).map((d) => resolve(d)),
        ...(opts.heartbeatMs ? { heartbeatMs: Number(opts.heartbeatMs) } : {}),
        hfEndpoint: process.env.HF_ENDPOINT,
        outboundAllow: opts.outboundAllow ?? process.env.MAAS_OUTBOUND_ALLOW,
        ...(runtimesOf(opts.runtimes) ? { runtimes: runtimesOf(opts.runtimes)! } : {}),
        stopRuntimesOnExit: Boolean(opts.stopRuntimesOnExit),
      });
      await agent.start();
      // fine-tuning: the node offers the LoRA trainer preset when its python imports torch
      const { createHttpTrainingTransport, startTrainingLoop } = await import('@maas/agent/training');
      const training = await startTrainingLoop({
        transport: createHttpTrainingTransport({ server, dataDir }),
        dataDir,
        log: (msg) => process.stdout.write(`${new Date().toISOString()} ${msg}\n`),
      });
      await new Promise<void>((done) => {
        const stop = (signal: string) => {
          process.stdout.write(
            `${new Date().toISOString()} ${signal}: agent stopping${opts.stopRuntimesOnExit ? ' with its runtimes' : '; runtimes keep running'}\n`,
          );
          Promise.all([agent.stop(), training?.stop()]).then(() => done(), done);
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
    });
  examples(cmd, [
    'maas agent --server http://maas.internal:8080 --token maas-join-… --label gpu=a100',
    'maas agent --server http://127.0.0.1:8080 --model-dir /srv/models --ports 30000-30099',
  ]);
}
