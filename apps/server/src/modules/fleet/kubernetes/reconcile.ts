import { createHash } from 'node:crypto';
import type { ReplicaState } from '@maas/contracts/agent';
import type { OutboundPolicy } from '@maas/outbound';
import { and, asc, eq, isNotNull, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { SecretBox } from '../../../crypto/secret-box.ts';
import type { Db } from '../../../db/client.ts';
import type { GatewayTargets } from '../gateway-targets.ts';
import { type ClusterRow, clusters, type DeploymentRow, deployments, replicas } from '../schema.ts';
import { issueFleetSecret, REPLICA_KEY_PREFIX } from '../secrets.ts';
import { createKubeApi, describeKubeError, FIELD_MANAGER, type KubeApi, statusOf } from './kube-api.ts';
import {
  buildManifests,
  LABELS,
  type Manifests,
  objectName,
  secretName,
  serviceEndpoint,
} from './manifests.ts';
import { viewPod } from './pod-status.ts';
import { type RowState, rowStates } from './replica-states.ts';

export interface KubernetesPlacementDeps {
  db: Db;
  log: Logger;
  /** opens cluster tokens; seals the replica credential */
  secrets: SecretBox;
  /** every connection to an API server passes it */
  outbound: OutboundPolicy;
  targets: GatewayTargets;
  /** how often clusters are polled */
  intervalMs: number;
  /** objects are applied again this long after the last apply even when unchanged (drift) */
  reapplyMs?: number;
}

/**
 * Kubernetes as a placement target: each pass, for every registered cluster, the deployments
 * placed there are applied as Secret + Deployment + Service (server-side apply, field manager
 * `maas`), their pods are read back into the deployment's replica rows (ready → running at the
 * Service's endpoint; pending, crash-looping → the pod's reason), objects of deployments that are
 * gone or deleted are removed, and the gateway targets follow. Polls; it never holds a database
 * transaction across a call to a cluster.
 */
export function createKubernetesPlacement(deps: KubernetesPlacementDeps) {
  const { db, log, secrets } = deps;
  const reapplyMs = deps.reapplyMs ?? 60_000;
  /** what was last applied per deployment (digest, when), to skip unchanged applies */
  const applied = new Map<string, { digest: string; at: number }>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;

  /**
   * One credential per deployment on a cluster, shared by its pods through the Secret: the one its
   * replica rows hold, or a new one given to all of them under a lock (servers that reconcile at
   * the same time agree on it, so the Secret does not flip between two and restart the pods).
   */
  function keyFor(depId: string): Promise<{ key: string; sealed: string }> {
    return db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`fleet:kubernetes:${depId}`}))`);
      const [held] = await tx
        .select({ sealed: replicas.apiKeySealed })
        .from(replicas)
        .where(and(eq(replicas.deploymentId, depId), isNotNull(replicas.apiKeySealed)))
        .limit(1);
      if (held?.sealed) return { key: secrets.open(held.sealed), sealed: held.sealed };
      const key = issueFleetSecret(REPLICA_KEY_PREFIX).secret;
      const sealed = secrets.seal(key);
      await tx.update(replicas).set({ apiKeySealed: sealed }).where(eq(replicas.deploymentId, depId));
      return { key, sealed };
    });
  }

  async function applyAll(api: KubeApi, cluster: ClusterRow, m: Manifests, depId: string) {
    const digest = createHash('sha256').update(JSON.stringify(m)).digest('hex');
    const last = applied.get(depId);
    const ns = cluster.namespace;
    const opts = { namespace: ns, fieldManager: FIELD_MANAGER, force: true };
    if (!last || last.digest !== digest || Date.now() - last.at > reapplyMs) {
      await api.core.patchNamespacedSecret(
        { ...opts, name: m.secret.metadata!.name!, body: m.secret },
        api.apply,
      );
      await api.apps.patchNamespacedDeployment(
        { ...opts, name: m.deployment.metadata!.name!, body: m.deployment },
        api.apply,
      );
      const service = await api.core.patchNamespacedService(
        { ...opts, name: m.service.metadata!.name!, body: m.service },
        api.apply,
      );
      applied.set(depId, { digest, at: Date.now() });
      return service;
    }
    return api.core.readNamespacedService({ namespace: ns, name: m.service.metadata!.name! });
  }

  /** Deletes a deployment's objects; those already gone are fine. */
  async function removeObjects(api: KubeApi, cluster: ClusterRow, depId: string) {
    const ns = cluster.namespace;
    const name = objectName(depId);
    const gone = (err: unknown) => {
      if (statusOf(err) !== 404) throw err;
    };
    await api.apps
      .deleteNamespacedDeployment({ namespace: ns, name, propagationPolicy: 'Foreground' })
      .catch(gone);
    await api.core.deleteNamespacedService({ namespace: ns, name }).catch(gone);
    await api.core.deleteNamespacedSecret({ namespace: ns, name: secretName(depId) }).catch(gone);
    applied.delete(depId);
  }

  async function reconcileDeployment(
    api: KubeApi,
    cluster: ClusterRow,
    dep: DeploymentRow,
  ): Promise<boolean> {
    const rows = await db
      .select()
      .from(replicas)
      .where(eq(replicas.deploymentId, dep.id))
      .orderBy(asc(replicas.createdAt));
    const wanted = rows.filter((r) => r.desired === 'run');
    const { key, sealed } = await keyFor(dep.id);
    const keep = (reason: string, state?: ReplicaState) =>
      new Map(
        wanted.map((r) => [
          r.id,
          { state: state ?? r.state, reason, endpoint: r.endpoint, restarts: r.restarts },
        ]),
      );
    let states: Map<string, RowState>;
    let manifests: Manifests | null = null;
    try {
      manifests = buildManifests({ cluster, deployment: dep, replicas: dep.replicas, apiKey: key });
    } catch (err) {
      // a spec this cluster cannot run (checked at placement; an older row may still say so)
      states = keep((err as Error).message, 'failed');
    }
    if (manifests) {
      try {
        const service = await applyAll(api, cluster, manifests, dep.id);
        const pods = await api.core.listNamespacedPod({
          namespace: cluster.namespace,
          labelSelector: `${LABELS.deployment}=${dep.id}`,
        });
        states = rowStates(wanted, pods.items.map(viewPod), serviceEndpoint(cluster, service));
      } catch (err) {
        // no answer at all: the cluster's error (its pods may well still serve)
        if (statusOf(err) === null) throw err;
        // refused (RBAC, quota, admission): the replicas keep their state and say why
        states = keep(`cluster ${cluster.name}: ${describeKubeError(err)}`);
      }
    }
    let changed = false;
    const at = new Date();
    for (const r of wanted) {
      const s = states!.get(r.id)!;
      const same =
        r.state === s.state &&
        r.reason === s.reason &&
        r.endpoint === s.endpoint &&
        r.restarts === s.restarts &&
        r.apiKeySealed === sealed;
      if (same) continue;
      changed = true;
      await db
        .update(replicas)
        .set({
          state: s.state,
          reason: s.reason,
          endpoint: s.endpoint,
          restarts: s.restarts,
          port: cluster.servicePort,
          apiKeySealed: sealed,
          ...(s.state === 'running' && r.state !== 'running' ? { startedAt: at } : {}),
          updatedAt: at,
        })
        .where(eq(replicas.id, r.id));
    }
    return changed;
  }

  async function reconcileCluster(cluster: ClusterRow, changed: Set<string>): Promise<void> {
    const api = await createKubeApi(
      { apiServer: cluster.apiServer, caCert: cluster.caCert, token: secrets.open(cluster.tokenSealed) },
      deps.outbound,
    );
    try {
      const placed = await db
        .select()
        .from(deployments)
        .where(sql`${deployments.placement}->>'cluster' = ${cluster.id}`);
      const active = new Set<string>();
      for (const dep of placed) {
        // deleted, or scaled to zero (its rows are gone): its objects go below
        if (dep.status === 'deleting' || dep.replicas === 0) continue;
        active.add(dep.id);
        if (await reconcileDeployment(api, cluster, dep)) changed.add(dep.id);
      }
      // objects of deployments that were deleted or moved elsewhere
      const existing = await api.apps.listNamespacedDeployment({
        namespace: cluster.namespace,
        labelSelector: `${LABELS.managedBy}=maas,${LABELS.cluster}=${cluster.id}`,
      });
      for (const d of existing.items) {
        const depId = d.metadata?.labels?.[LABELS.deployment];
        if (depId && !active.has(depId)) {
          await removeObjects(api, cluster, depId);
          log.info({ cluster: cluster.name, deployment: depId }, 'kubernetes objects removed');
        }
      }
    } finally {
      await api.close();
    }
  }

  async function pass(): Promise<void> {
    const changed = new Set<string>();
    for (const cluster of await db.select().from(clusters)) {
      let error: string | null = null;
      try {
        await reconcileCluster(cluster, changed);
      } catch (err) {
        error = describeKubeError(err);
        log.warn({ cluster: cluster.name, error }, 'kubernetes cluster reconcile failed');
      }
      if (
        error !== cluster.lastError ||
        !cluster.lastSyncAt ||
        Date.now() - cluster.lastSyncAt.getTime() > 30_000
      )
        await db
          .update(clusters)
          .set({ lastError: error, lastSyncAt: new Date() })
          .where(eq(clusters.id, cluster.id));
    }
    await Promise.all([...changed].map((id) => deps.targets.sync(id)));
  }

  const run = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = pass()
      .catch((err: unknown) => log.error({ err }, 'kubernetes placement pass failed'))
      .finally(() => {
        running = null;
        if (again && !stopped) {
          again = false;
          void run();
        }
      });
    return running;
  };

  return {
    /** a pass now (or right after the one under way) */
    kick: run,
    /** a pass that starts after this call */
    async settle(): Promise<void> {
      await running;
      await run();
    },
    start() {
      timer = setInterval(() => void run(), deps.intervalMs);
      timer.unref();
      void run();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

export type KubernetesPlacement = ReturnType<typeof createKubernetesPlacement>;
