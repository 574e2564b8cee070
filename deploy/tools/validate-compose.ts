// Validates deploy/compose.yaml against the compose-spec JSON schema (vendored in deploy/schemas,
// nothing is downloaded), then the promises this deployment makes: two `maas serve` replicas that
// wait for the schema, one `maas migrate` before them, read-only root filesystems, files that exist
// and only environment variables maas reads.
//   node --import tsx deploy/tools/validate-compose.ts deploy/compose.yaml
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse } from 'yaml';
import { envChecker } from './known-env.ts';

// biome-ignore lint/suspicious/noExplicitAny: compose YAML of any shape
type Service = Record<string, any>;

const VAR = String.raw`\$\{[A-Za-z_][A-Za-z0-9_]*(:?[-?+][^}]*)?\}`;
const PORT = String.raw`(\d+(-\d+)?|${VAR})`;
/** compose's own formats (compose-go): Go durations, exposed ports, port mappings, subnets */
const COMPOSE_FORMATS: Record<string, RegExp> = {
  duration: /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/,
  expose: new RegExp(`^${PORT}(/(tcp|udp|sctp))?$`),
  ports: new RegExp(`^(([0-9.]+|\\[[0-9a-fA-F:]+\\]|${VAR}):)?(${PORT}:)?${PORT}(/(tcp|udp|sctp))?$`),
  subnet_ip_address: /^([0-9.]+|[0-9a-fA-F:]+)\/\d{1,3}$/,
};

export function validateCompose(file: string, repoRoot: string): string[] {
  const problems: string[] = [];
  const doc = parse(readFileSync(file, 'utf8'), { merge: true }) as Service;
  const schema = JSON.parse(readFileSync(join(repoRoot, 'deploy/schemas/compose-spec.json'), 'utf8'));
  delete schema.$schema;
  dropDraft4Ids(schema);
  const ajv = new Ajv2019({ allErrors: true, strict: false });
  for (const [format, pattern] of Object.entries(COMPOSE_FORMATS)) ajv.addFormat(format, pattern);
  const validate = ajv.compile(schema);
  if (!validate(doc)) {
    for (const e of validate.errors ?? []) {
      const extra = e.params.additionalProperty ? ` (${e.params.additionalProperty})` : '';
      problems.push(`schema: ${e.instancePath || '/'} ${e.message}${extra}`);
    }
    return problems;
  }

  const base = dirname(file);
  const services: Record<string, Service> = doc.services ?? {};
  const volumes = Object.keys(doc.volumes ?? {});
  const isKnownEnv = envChecker(repoRoot);
  const maasServices = Object.entries(services).filter(
    ([, s]) => s.build?.dockerfile === 'deploy/Dockerfile',
  );

  for (const [name, svc] of Object.entries(services)) {
    for (const dep of Object.keys(dependsOn(svc))) {
      if (!services[dep]) problems.push(`${name}: depends on unknown service ${dep}`);
    }
    for (const mount of svc.volumes ?? []) {
      const source = typeof mount === 'string' ? mount.split(':')[0]! : mount.source;
      if (source.startsWith('.') || source.startsWith('/')) {
        if (!existsSync(resolve(base, source))) problems.push(`${name}: bind mount ${source} does not exist`);
      } else if (!volumes.includes(source)) {
        problems.push(`${name}: volume ${source} is not declared under volumes:`);
      }
    }
    if (svc.build) {
      const context = resolve(base, svc.build.context ?? '.');
      if (!existsSync(join(context, svc.build.dockerfile ?? 'Dockerfile'))) {
        problems.push(`${name}: build.dockerfile ${svc.build.dockerfile} not found in ${context}`);
      }
    }
  }

  for (const [name, svc] of maasServices) {
    if (svc.read_only !== true) problems.push(`${name}: maas runs with read_only: true`);
    if (!(svc.tmpfs ?? []).includes('/tmp')) problems.push(`${name}: maas needs a /tmp tmpfs`);
    if (!(svc.volumes ?? []).some((v: string) => String(v).endsWith(':/data'))) {
      problems.push(`${name}: maas needs a volume at /data`);
    }
    for (const key of Object.keys(svc.environment ?? {})) {
      if (!isKnownEnv(key)) problems.push(`${name}: environment ${key} is not read by maas`);
    }
  }
  const command = (svc: Service) => (Array.isArray(svc.command) ? svc.command[0] : svc.command);
  const replicas = maasServices.filter(([, s]) => command(s) === 'serve');
  const migrations = maasServices.filter(([, s]) => command(s) === 'migrate');
  if (replicas.length < 2) problems.push(`expected at least 2 maas serve replicas, found ${replicas.length}`);
  if (migrations.length !== 1) problems.push(`expected one maas migrate service, found ${migrations.length}`);
  for (const [name, svc] of replicas) {
    if (svc.environment?.MAAS_MIGRATE !== 'wait') problems.push(`${name}: a replica sets MAAS_MIGRATE=wait`);
    const migrate = migrations[0]?.[0];
    if (migrate && dependsOn(svc)[migrate]?.condition !== 'service_completed_successfully') {
      problems.push(`${name}: must depend on ${migrate} with condition service_completed_successfully`);
    }
  }
  return problems;
}

/** the schema still carries draft-4 `id` keywords (ajv wants `$id`); they name nothing we refer to */
function dropDraft4Ids(node: unknown): void {
  if (!node || typeof node !== 'object') return;
  const obj = node as Record<string, unknown>;
  if (typeof obj.id === 'string') delete obj.id;
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'properties' && value && typeof value === 'object') {
      for (const child of Object.values(value)) dropDraft4Ids(child);
    } else dropDraft4Ids(value);
  }
}

function dependsOn(svc: Service): Record<string, { condition?: string }> {
  const deps = svc.depends_on ?? {};
  return Array.isArray(deps) ? Object.fromEntries(deps.map((d: string) => [d, {}])) : deps;
}

const file = process.argv[2];
if (file) {
  const repoRoot = resolve(process.argv[3] ?? join(dirname(resolve(file)), '..'));
  const problems = validateCompose(resolve(file), repoRoot);
  for (const p of problems) process.stderr.write(`${file}: ${p}\n`);
  if (problems.length > 0) process.exit(1);
  process.stdout.write(`${file}: ok (compose-spec schema, replicas, migrations, mounts, environment)\n`);
}
