// Validates rendered Kubernetes manifests (`helm template … | this`): each object against the
// Kubernetes JSON schemas (kubernetes-models: the API's OpenAPI schemas compiled to validators;
// the Prometheus Operator's for ServiceMonitor and PrometheusRule), unknown fields rejected as
// kubeconform -strict does (field lists of @kubernetes/client-node's generated models), then the
// chart's own promises: references that resolve, probes on the server's real paths, migrations as
// a hook before anything else, and only environment variables maas reads.
//   node --import tsx deploy/tools/validate-manifests.ts rendered-a.yaml rendered-b.yaml   (or stdin)
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { envChecker } from './known-env.ts';

// biome-ignore lint/suspicious/noExplicitAny: rendered YAML of any shape
type Obj = Record<string, any>;
const repoRoot = resolve(import.meta.dirname, '../..');

/** the kubernetes-models validator of an apiVersion/kind */
async function schemaValidator(apiVersion: string, kind: string): Promise<((o: Obj) => void) | undefined> {
  const module = apiVersion.startsWith('monitoring.coreos.com/')
    ? `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`
    : `kubernetes-models/${apiVersion}/${kind}`;
  try {
    const models = (await import(module)) as Record<string, new (o: Obj) => { validate(): void }>;
    const Model = models[kind];
    return Model ? (o) => new Model(o).validate() : undefined;
  } catch {
    return undefined;
  }
}

/** fields a model does not have, as `path: unknown field` (kubeconform -strict) */
function unknownFields(value: unknown, type: string, path: string): string[] {
  const array = /^Array<(.+)>$/.exec(type);
  if (array)
    return Array.isArray(value) ? value.flatMap((v, i) => unknownFields(v, array[1]!, `${path}[${i}]`)) : [];
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (!value || typeof value !== 'object') return [];
    return Object.entries(value).flatMap(([k, v]) => unknownFields(v, map[1]!, `${path}.${k}`));
  }
  const model = (
    k8s as unknown as Record<string, { getAttributeTypeMap?: () => { baseName: string; type: string }[] }>
  )[type];
  if (!model?.getAttributeTypeMap || !value || typeof value !== 'object' || Array.isArray(value)) return [];
  const fields = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  return Object.entries(value).flatMap(([k, v]) => {
    const fieldType = fields.get(k);
    return fieldType ? unknownFields(v, fieldType, `${path}.${k}`) : [`${path}.${k}: unknown field`];
  });
}

function modelName(apiVersion: string, kind: string): string {
  const version = apiVersion.split('/').at(-1)!;
  return `${version[0]!.toUpperCase()}${version.slice(1)}${kind}`;
}

export async function validateManifests(text: string): Promise<string[]> {
  const problems: string[] = [];
  const objects: Obj[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) problems.push(`YAML: ${doc.errors[0]!.message}`);
    const o = doc.toJS() as Obj | null;
    if (o) objects.push(o);
  }
  if (objects.length === 0) return ['no objects rendered'];

  for (const o of objects) {
    const name = `${o.kind}/${o.metadata?.name}`;
    const validate = await schemaValidator(o.apiVersion, o.kind);
    if (!validate) {
      problems.push(`${name}: no schema for ${o.apiVersion} ${o.kind}`);
      continue;
    }
    try {
      validate(o);
    } catch (err) {
      problems.push(`${name}: ${(err as Error).message}`);
    }
    const model = modelName(o.apiVersion, o.kind);
    if (model in k8s) problems.push(...unknownFields(o, model, name));
  }
  problems.push(...chartPromises(objects));
  return problems;
}

function podSpecs(objects: Obj[]): [string, Obj][] {
  return objects
    .filter((o) => o.spec?.template?.spec)
    .map((o) => [`${o.kind}/${o.metadata.name}`, o.spec.template.spec] as [string, Obj]);
}

function chartPromises(objects: Obj[]): string[] {
  const problems: string[] = [];
  const of = (kind: string) => objects.filter((o) => o.kind === kind);
  const secrets = new Map(
    of('Secret').map((s) => [s.metadata.name, Object.keys({ ...s.data, ...s.stringData })]),
  );
  const isKnownEnv = envChecker(repoRoot);
  const fieldEnv = new Set(['NODE_NAME', 'POD_IP']);
  const routes = readFileSync(join(repoRoot, 'apps/server/src/modules/observability/routes.ts'), 'utf8');

  for (const [name, spec] of podSpecs(objects)) {
    for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
      for (const e of c.env ?? []) {
        if (!isKnownEnv(e.name) && !fieldEnv.has(e.name))
          problems.push(`${name}: env ${e.name} is not read by maas`);
        const ref = e.valueFrom?.secretKeyRef;
        if (ref && secrets.has(ref.name) && !secrets.get(ref.name)!.includes(ref.key)) {
          problems.push(`${name}: env ${e.name} reads key ${ref.key} that secret ${ref.name} lacks`);
        }
      }
      for (const probe of [c.startupProbe, c.readinessProbe, c.livenessProbe]) {
        const path = probe?.httpGet?.path;
        if (path && !routes.includes(`'${path}'`)) problems.push(`${name}: probe path ${path} is not served`);
        const port = probe?.httpGet?.port;
        if (typeof port === 'string' && !(c.ports ?? []).some((p: Obj) => p.name === port)) {
          problems.push(`${name}: probe port ${port} is not a container port`);
        }
      }
      if (c.securityContext?.readOnlyRootFilesystem !== true) {
        problems.push(`${name}: container ${c.name} needs readOnlyRootFilesystem`);
      }
    }
  }

  for (const o of [...of('Deployment'), ...of('DaemonSet')]) {
    const labels = o.spec.template.metadata?.labels ?? {};
    for (const [k, v] of Object.entries(o.spec.selector?.matchLabels ?? {})) {
      if (labels[k] !== v)
        problems.push(`${o.kind}/${o.metadata.name}: selector ${k}=${v} does not match its pods`);
    }
  }
  const deployments = of('Deployment');
  const server = deployments[0];
  if (!server) problems.push('no server Deployment');
  const serverLabels = server?.spec.template.metadata.labels ?? {};
  const selects = (selector: Obj | undefined) =>
    Object.entries(selector ?? {}).every(([k, v]) => serverLabels[k] === v) &&
    Object.keys(selector ?? {}).length > 0;
  for (const svc of of('Service')) {
    if (!selects(svc.spec.selector)) problems.push(`Service/${svc.metadata.name} selects no server pod`);
  }
  for (const pdb of of('PodDisruptionBudget')) {
    if (!selects(pdb.spec.selector?.matchLabels))
      problems.push(`PDB/${pdb.metadata.name} selects no server pod`);
  }
  for (const hpa of of('HorizontalPodAutoscaler')) {
    const target = hpa.spec.scaleTargetRef;
    if (!deployments.some((d) => d.metadata.name === target.name))
      problems.push(`HPA targets unknown ${target.name}`);
    if (server?.spec.replicas !== undefined)
      problems.push('with an HPA the Deployment must not set replicas');
  }

  const env = (o: Obj | undefined) =>
    Object.fromEntries((o?.spec.template.spec.containers[0].env ?? []).map((e: Obj) => [e.name, e.value]));
  if (server && env(server).MAAS_MIGRATE !== 'wait')
    problems.push('the server must run with MAAS_MIGRATE=wait');
  const jobs = of('Job').filter((j) =>
    j.spec.template.spec.containers.some((c: Obj) => c.args?.[0] === 'migrate'),
  );
  if (jobs.length !== 1)
    problems.push(`expected one migration Job running \`maas migrate\`, found ${jobs.length}`);
  const hooks = (o: Obj) => String(o.metadata.annotations?.['helm.sh/hook'] ?? '').split(',');
  const weight = (o: Obj) => Number(o.metadata.annotations?.['helm.sh/hook-weight'] ?? 0);
  for (const job of jobs) {
    if (!['pre-install', 'pre-upgrade'].every((h) => hooks(job).includes(h))) {
      problems.push(`Job/${job.metadata.name} must be a pre-install,pre-upgrade hook`);
    }
    for (const secret of of('Secret')) {
      if (!hooks(secret).includes('pre-install') || weight(secret) >= weight(job)) {
        problems.push(`Secret/${secret.metadata.name} must be a hook created before the migration Job`);
      }
    }
  }
  for (const sm of of('ServiceMonitor')) {
    const services = of('Service').filter((s) =>
      Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => s.metadata.labels?.[k] === v),
    );
    if (services.length === 0) problems.push(`ServiceMonitor/${sm.metadata.name} selects no Service`);
    for (const ep of sm.spec.endpoints) {
      if (!services.some((s) => s.spec.ports.some((p: Obj) => p.name === ep.port))) {
        problems.push(`ServiceMonitor/${sm.metadata.name}: no Service port named ${ep.port}`);
      }
    }
  }
  for (const ds of of('DaemonSet')) {
    const limits = ds.spec.template.spec.containers[0].resources?.limits ?? {};
    if (!limits['nvidia.com/gpu']) problems.push(`DaemonSet/${ds.metadata.name} requests no nvidia.com/gpu`);
  }
  return problems;
}

// arguments: rendered files (each validated on its own); none: stdin
if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const files = process.argv.slice(2);
  let failed = false;
  for (const file of files.length > 0 ? files : ['-']) {
    const problems = await validateManifests(readFileSync(file === '-' ? 0 : file, 'utf8'));
    for (const p of problems) process.stderr.write(`${file}: ${p}\n`);
    if (problems.length > 0) failed = true;
    else process.stdout.write(`${file}: ok (Kubernetes schemas, strict fields, chart rules)\n`);
  }
  if (failed) process.exit(1);
}
