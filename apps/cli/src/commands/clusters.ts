import { readFileSync } from 'node:fs';
import type { Command, OptionValues } from 'commander';
import { usageError } from '../lib/errors.ts';
import { paintStatus } from '../lib/output.ts';
import { refSpec } from '../lib/resolve.ts';
import { registerResource } from '../lib/resource.ts';
import { collect, parseInteger, readStdin } from '../lib/runtime.ts';

/** commander's option values: each flag as its parser left it */
type Opts = OptionValues;

const clusterRef = refSpec({
  singular: 'cluster',
  path: '/api/v1/clusters',
  idPrefix: 'kcl',
  names: (r) => [r.name],
});

/** The service-account token comes from a file, an environment variable or standard input, never argv. */
async function tokenFrom(opts: Opts): Promise<string> {
  if (opts.tokenFile) return readFileSync(opts.tokenFile, 'utf8').trim();
  if (opts.tokenStdin) return (await readStdin()).trim();
  if (opts.tokenEnv) {
    const value = process.env[opts.tokenEnv];
    if (!value) throw usageError(`environment variable ${opts.tokenEnv} is not set`);
    return value;
  }
  throw usageError('give the service-account token with --token-file, --token-env or --token-stdin');
}

function pairs(list: string[] | undefined, what: string): Record<string, string> | undefined {
  if (!list) return undefined;
  const out: Record<string, string> = {};
  for (const pair of list) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw usageError(`${what} wants key=value, got "${pair}"`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** `--model-pvc NAME` or `--model-host-path /srv/models`, mounted at `--model-mount` (default /models). */
function modelVolume(opts: Opts): Record<string, unknown> | undefined {
  if (opts.modelPvc && opts.modelHostPath)
    throw usageError('give --model-pvc or --model-host-path, not both');
  const mount = opts.modelMount ? { mount_path: opts.modelMount } : {};
  if (opts.modelPvc) return { kind: 'pvc', claim_name: opts.modelPvc, ...mount };
  if (opts.modelHostPath) return { kind: 'host_path', path: opts.modelHostPath, ...mount };
  return undefined;
}

/** `maas clusters …`: Kubernetes clusters as placement targets for deployments (platform admins). */
export function registerClusterCommands(program: Command): void {
  registerResource(program, {
    ref: clusterRef,
    command: 'clusters',
    aliases: ['cluster'],
    description: 'Kubernetes clusters deployments can be placed on (platform admins)',
    columns: [
      { header: 'id', value: (r) => r.id },
      { header: 'name', value: (r) => r.name },
      { header: 'api server', value: (r) => r.api_server },
      { header: 'namespace', value: (r) => r.namespace },
      {
        header: 'status',
        value: (r) => (r.last_error ? 'error' : r.last_sync_at ? 'ok' : 'new'),
        paint: (t, _r, c) => paintStatus(t, c),
      },
    ],
    details: (r) => [
      ['id', r.id],
      ['name', r.name],
      ['api server', r.api_server],
      ['ca certificate', r.ca_cert ? 'pinned' : "the system's CAs"],
      ['token', 'stored (encrypted)'],
      ['namespace', r.namespace],
      ['gpu resource', r.gpu_resource],
      ['node selector', r.node_selector],
      ['tolerations', r.tolerations],
      ['images', r.images],
      ['model volume', r.model_volume],
      ['service', `${r.service_type} :${r.service_port}`],
      ['tenant workloads', r.tenant_workloads ? 'yes' : 'no'],
      ['last sync', r.last_sync_at],
      ['last error', r.last_error],
      ['created', r.created_at],
    ],
    create: {
      args: ['<name>'],
      options: (cmd) =>
        cmd
          .requiredOption('--api-server <url>', 'the Kubernetes API server, e.g. https://10.0.0.1:6443')
          .requiredOption('--namespace <ns>', 'where deployments are created')
          .option('--ca-file <path>', "PEM of the API server's CA (default: the system's CAs)")
          .option('--token-file <path>', 'read the service-account token from this file')
          .option('--token-env <VAR>', 'read the service-account token from this environment variable')
          .option('--token-stdin', 'read the service-account token from standard input')
          .option('--gpu-resource <name>', 'the GPU extended resource (default nvidia.com/gpu)')
          .option('--node-selector <key=value>', 'a node label pods must match (repeatable)', collect)
          .option(
            '--toleration <key=effect>',
            'tolerate a taint, e.g. nvidia.com/gpu=NoSchedule (repeatable)',
            collect,
          )
          .option('--vllm-image <image>', 'the vLLM image')
          .option('--sglang-image <image>', 'the SGLang image')
          .option('--model-pvc <claim>', 'a PersistentVolumeClaim that holds models (and the HF cache)')
          .option('--model-host-path <path>', 'a directory on the nodes that holds models')
          .option('--model-mount <path>', 'where the model volume is mounted (default /models)')
          .option(
            '--load-balancer',
            'reach each Service at its load balancer (maas runs outside the cluster)',
          )
          .option('--service-port <port>', 'the Services’ port (default 8000)', parseInteger)
          .option('--admins-only', "only platform admins' deployments may be placed there"),
      body: async ([name], opts) => ({
        name,
        api_server: opts.apiServer,
        namespace: opts.namespace,
        token: await tokenFrom(opts),
        ca_cert: opts.caFile ? readFileSync(opts.caFile, 'utf8') : undefined,
        gpu_resource: opts.gpuResource,
        node_selector: pairs(opts.nodeSelector, '--node-selector'),
        tolerations: opts.toleration
          ? Object.entries(pairs(opts.toleration, '--toleration')!).map(([key, effect]) => ({
              key,
              operator: 'Exists',
              effect,
            }))
          : undefined,
        images:
          opts.vllmImage || opts.sglangImage ? { vllm: opts.vllmImage, sglang: opts.sglangImage } : undefined,
        model_volume: modelVolume(opts),
        service_type: opts.loadBalancer ? 'LoadBalancer' : undefined,
        service_port: opts.servicePort,
        tenant_workloads: opts.adminsOnly ? false : undefined,
      }),
    },
    update: {
      options: (cmd) =>
        cmd
          .option('--api-server <url>', 'a new API server URL')
          .option('--ca-file <path>', "PEM of the API server's CA")
          .option('--token-file <path>', 'rotate: read the new token from this file')
          .option('--token-env <VAR>', 'rotate: read the new token from this environment variable')
          .option('--token-stdin', 'rotate: read the new token from standard input')
          .option('--vllm-image <image>', 'the vLLM image')
          .option('--sglang-image <image>', 'the SGLang image'),
      body: async (opts) => ({
        api_server: opts.apiServer,
        ca_cert: opts.caFile ? readFileSync(opts.caFile, 'utf8') : undefined,
        token: opts.tokenFile || opts.tokenEnv || opts.tokenStdin ? await tokenFrom(opts) : undefined,
        images:
          opts.vllmImage || opts.sglangImage ? { vllm: opts.vllmImage, sglang: opts.sglangImage } : undefined,
      }),
    },
    examples: {
      ls: ['maas clusters ls'],
      get: ['maas clusters get gpu-pool'],
      create: [
        'maas clusters create gpu-pool --api-server https://10.0.0.1:6443 --namespace maas-models \\\n    --ca-file ca.crt --token-file sa.token --model-pvc models --toleration nvidia.com/gpu=NoSchedule',
      ],
      update: ['maas clusters update gpu-pool --token-file new-sa.token'],
      delete: ['maas clusters delete gpu-pool --yes'],
    },
  });
}
