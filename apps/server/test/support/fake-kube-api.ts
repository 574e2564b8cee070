import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A local Kubernetes API server for tests: HTTPS with its own certificate (clients must pin its
 * CA), bearer-token auth, and the subset of the REST API maas's placement uses — server-side apply
 * (PATCH application/apply-patch+yaml with fieldManager), get, list by label selector and delete
 * for Secrets, Services, Deployments and Pods — with Kubernetes' status codes and Status bodies.
 * A small "kubelet" turns each Deployment into pods whose state the test chooses (Pending for lack
 * of GPUs, CrashLoopBackOff, Ready), rolling to a new template only once its pods are ready.
 * Every request is recorded.
 */
export type PodBehaviour = 'pending' | 'crash' | 'ready';

export interface KubeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  authorization: string | undefined;
  body: any;
}

type Kind = 'secrets' | 'services' | 'deployments' | 'pods';
const KIND: Record<Kind, { kind: string; apiVersion: string; group: string }> = {
  secrets: { kind: 'Secret', apiVersion: 'v1', group: '' },
  services: { kind: 'Service', apiVersion: 'v1', group: '' },
  deployments: { kind: 'Deployment', apiVersion: 'apps/v1', group: 'apps' },
  pods: { kind: 'Pod', apiVersion: 'v1', group: '' },
};

export interface FakeKubeApi {
  url: string;
  /** PEM of the self-signed certificate the server presents (its own CA) */
  ca: string;
  token: string;
  namespace: string;
  requests: KubeRequest[];
  /** the stored objects of a kind, by name */
  store: Record<Kind, Map<string, any>>;
  /** how the pods of each Deployment (by name) and template revision behave; default pending */
  behave(fn: (deployment: string, revision: string) => PodBehaviour): void;
  /** answers 403 Forbidden to writes of these resources */
  forbid(kinds: Kind[]): void;
  close(): Promise<void>;
}

const status = (code: number, reason: string, message: string, details?: object) => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message,
  reason,
  ...(details ? { details } : {}),
  code,
});

function selectorMatches(selector: string | undefined, labels: Record<string, string> = {}): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return labels[k!] === v;
  });
}

function selfSignedCert(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'maas-kube-ca-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=kube-apiserver',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    return {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function startFakeKubeApi(opts: { namespace?: string; loadBalancerIp?: string } = {}) {
  const namespace = opts.namespace ?? 'models';
  const token = `kube-token-${randomBytes(12).toString('hex')}`;
  const { key, cert } = selfSignedCert();
  const requests: KubeRequest[] = [];
  const store: Record<Kind, Map<string, any>> = {
    secrets: new Map(),
    services: new Map(),
    deployments: new Map(),
    pods: new Map(),
  };
  let behaviour: (deployment: string, revision: string) => PodBehaviour = () => 'pending';
  let forbidden = new Set<Kind>();
  let rv = 1000;
  const nextRv = () => String(++rv);

  function podStatus(pod: any, b: PodBehaviour) {
    const now = new Date().toISOString();
    if (b === 'pending')
      return {
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/3 nodes are available: 3 Insufficient nvidia.com/gpu.',
            lastTransitionTime: now,
          },
        ],
      };
    const container = pod.spec.containers[0].name;
    if (b === 'crash')
      return {
        phase: 'Running',
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
          { type: 'Ready', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: now },
        ],
        containerStatuses: [
          {
            name: container,
            image: pod.spec.containers[0].image,
            imageID: '',
            ready: false,
            started: false,
            restartCount: 4,
            state: {
              waiting: {
                reason: 'CrashLoopBackOff',
                message: `back-off 1m20s restarting failed container=${container} pod=${pod.metadata.name}`,
              },
            },
            lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: now, finishedAt: now } },
          },
        ],
      };
    return {
      phase: 'Running',
      podIP: '10.244.0.17',
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
        { type: 'Ready', status: 'True', lastTransitionTime: now },
      ],
      containerStatuses: [
        {
          name: container,
          image: pod.spec.containers[0].image,
          imageID: '',
          ready: true,
          started: true,
          restartCount: 0,
          state: { running: { startedAt: now } },
        },
      ],
    };
  }

  /** The kubelet and the Deployment controller, at once: pods follow each Deployment. */
  function reconcilePods() {
    for (const pod of store.pods.values()) {
      const owner = store.deployments.get(pod.metadata.labels['x-fake-owner']);
      if (!owner) store.pods.delete(pod.metadata.name);
    }
    for (const dep of store.deployments.values()) {
      const template = dep.spec.template;
      const hash = createHash('sha256').update(JSON.stringify(template)).digest('hex').slice(0, 10);
      const revision = template.metadata?.labels?.['maas.dev/revision'] ?? '';
      const mine = [...store.pods.values()].filter(
        (p) => p.metadata.labels['x-fake-owner'] === dep.metadata.name,
      );
      const current = mine.filter((p) => p.metadata.labels['pod-template-hash'] === hash);
      const old = mine.filter((p) => p.metadata.labels['pod-template-hash'] !== hash);
      const want = dep.spec.replicas ?? 1;
      for (let i = current.length; i < want; i++) {
        const name = `${dep.metadata.name}-${hash}-${randomBytes(3).toString('hex').slice(0, 5)}`;
        const pod = {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name,
            namespace,
            uid: randomBytes(8).toString('hex'),
            labels: {
              ...template.metadata.labels,
              'pod-template-hash': hash,
              'x-fake-owner': dep.metadata.name,
            },
            annotations: template.metadata.annotations ?? {},
          },
          spec: template.spec,
        };
        store.pods.set(name, pod);
        current.push(pod);
      }
      for (const extra of current.slice(want)) store.pods.delete(extra.metadata.name);
      for (const p of current.slice(0, want)) p.status = podStatus(p, behaviour(dep.metadata.name, revision));
      const ready = current.filter((p) =>
        p.status.conditions.some((c: any) => c.type === 'Ready' && c.status === 'True'),
      );
      // maxUnavailable 0: the old pods go once the new ones are ready
      if (ready.length >= want) for (const p of old) store.pods.delete(p.metadata.name);
      dep.status = {
        replicas: current.length,
        readyReplicas: ready.length,
        observedGeneration: dep.metadata.generation,
      };
    }
  }

  function apply(kind: Kind, name: string, body: any, res: ServerResponse, query: Record<string, string>) {
    const meta = KIND[kind];
    if (!query.fieldManager)
      return send(
        res,
        400,
        status(
          400,
          'BadRequest',
          'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
        ),
      );
    if (body?.kind !== meta.kind || body?.apiVersion !== meta.apiVersion)
      return send(
        res,
        400,
        status(400, 'BadRequest', `the body of the request was in an unknown format: expected ${meta.kind}`),
      );
    if (body.metadata?.name !== name || (body.metadata?.namespace ?? namespace) !== namespace)
      return send(
        res,
        400,
        status(400, 'BadRequest', 'the name of the object does not match the name on the URL'),
      );
    const before = store[kind].get(name);
    const obj = structuredClone(body);
    obj.metadata = {
      ...obj.metadata,
      namespace,
      uid: before?.metadata.uid ?? randomBytes(8).toString('hex'),
      resourceVersion: nextRv(),
      creationTimestamp: before?.metadata.creationTimestamp ?? new Date().toISOString(),
      managedFields: [{ manager: query.fieldManager, operation: 'Apply', apiVersion: meta.apiVersion }],
    };
    if (kind === 'deployments') {
      const changed = JSON.stringify(before?.spec) !== JSON.stringify(body.spec);
      obj.metadata.generation = (before?.metadata.generation ?? 0) + (changed || !before ? 1 : 0);
    }
    if (kind === 'services') {
      obj.spec.clusterIP = before?.spec.clusterIP ?? `10.96.0.${store.services.size + 10}`;
      obj.status =
        obj.spec.type === 'LoadBalancer'
          ? { loadBalancer: { ingress: [{ ip: opts.loadBalancerIp ?? '127.0.0.1', ipMode: 'VIP' }] } }
          : { loadBalancer: {} };
    }
    store[kind].set(name, obj);
    reconcilePods();
    send(res, before ? 200 : 201, obj);
  }

  function send(res: ServerResponse, code: number, body: unknown) {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const u = new URL(req.url ?? '/', 'https://127.0.0.1');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: any;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
    }
    const query = Object.fromEntries(u.searchParams);
    requests.push({
      method: req.method ?? 'GET',
      path: u.pathname,
      query,
      contentType: req.headers['content-type'],
      authorization: req.headers.authorization,
      body,
    });
    if (req.headers.authorization !== `Bearer ${token}`)
      return send(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
    const m =
      /^\/api\/v1\/namespaces\/([^/]+)\/(secrets|services|pods)(?:\/([^/]+))?$/.exec(u.pathname) ??
      /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/(deployments)(?:\/([^/]+))?$/.exec(u.pathname);
    if (!m)
      return send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
    const [, ns, kindText, name] = m;
    const kind = kindText as Kind;
    const meta = KIND[kind];
    if (ns !== namespace) return send(res, 404, status(404, 'NotFound', `namespaces "${ns}" not found`));
    const notFound = () =>
      send(
        res,
        404,
        status(404, 'NotFound', `${kind}${meta.group ? `.${meta.group}` : ''} "${name}" not found`, {
          name,
          group: meta.group,
          kind,
        }),
      );
    if (req.method !== 'GET' && forbidden.has(kind))
      return send(
        res,
        403,
        status(
          403,
          'Forbidden',
          `${kind}${meta.group ? `.${meta.group}` : ''} "${name}" is forbidden: User "system:serviceaccount:maas:maas" cannot ${req.method === 'PATCH' ? 'patch' : 'delete'} resource "${kind}" in API group "${meta.group}" in the namespace "${ns}"`,
          { name, group: meta.group, kind },
        ),
      );
    reconcilePods();
    if (req.method === 'PATCH' && name) {
      if (req.headers['content-type'] !== 'application/apply-patch+yaml')
        return send(
          res,
          415,
          status(
            415,
            'UnsupportedMediaType',
            `the body of the request was in an unknown format - accepted media types include: application/apply-patch+yaml`,
          ),
        );
      return apply(kind, name, body, res, query);
    }
    if (req.method === 'GET' && name) {
      const obj = store[kind].get(name);
      return obj ? send(res, 200, obj) : notFound();
    }
    if (req.method === 'GET') {
      const items = [...store[kind].values()].filter((o) =>
        selectorMatches(query.labelSelector, o.metadata.labels),
      );
      return send(res, 200, {
        kind: `${meta.kind}List`,
        apiVersion: meta.apiVersion,
        metadata: { resourceVersion: String(rv) },
        items,
      });
    }
    if (req.method === 'DELETE' && name) {
      const obj = store[kind].get(name);
      if (!obj) return notFound();
      store[kind].delete(name);
      reconcilePods();
      if (kind === 'deployments')
        return send(res, 200, {
          ...obj,
          metadata: {
            ...obj.metadata,
            deletionTimestamp: new Date().toISOString(),
            finalizers: ['foregroundDeletion'],
          },
        });
      return send(res, 200, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Success',
        details: { name, group: meta.group, kind, uid: obj.metadata.uid },
      });
    }
    send(
      res,
      405,
      status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'),
    );
  }

  const server = createServer({ key, cert }, (req, res) => {
    handle(req, res).catch((err: Error) => send(res, 500, status(500, 'InternalError', err.message)));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  const api: FakeKubeApi = {
    url: `https://127.0.0.1:${port}`,
    ca: cert,
    token,
    namespace,
    requests,
    store,
    behave(fn) {
      behaviour = fn;
    },
    forbid(kinds) {
      forbidden = new Set(kinds);
    },
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
  return api;
}
