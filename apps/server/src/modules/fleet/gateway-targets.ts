import { eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { SecretBox } from '../../crypto/secret-box.ts';
import type { Db } from '../../db/client.ts';
import { AppError } from '../../http/app-error.ts';
import type { UserPrincipal } from '../../http/principal.ts';
import type { AuditContext } from '../audit/index.ts';
import type { ProviderService } from '../providers/index.ts';
import type { RegistryService } from '../registry/index.ts';
import { type DeploymentRow, deployments, type ReplicaRow, replicas } from './schema.ts';

/**
 * The glue between the fleet and the gateway, kept in this one file: every running replica is an
 * openai-compatible provider (`fleet-<deployment>-<replica>-<node>-<port>`) and a target of the registry model
 * named like the deployment, in the version named by its spec; traffic follows the running
 * replicas (or the canary share). A replica leaves its version's targets before it is stopped.
 * A version with nothing running keeps its last targets at weight 0 (the registry wants at least
 * one), so the gateway answers "no target available" rather than sending traffic to a dead port.
 */
export interface GatewayTargetsDeps {
  db: Db;
  registry: RegistryService;
  providers: ProviderService;
  /** opens the replica's credential, which its provider holds as its api key */
  secrets: SecretBox;
  log: Logger;
}

type Target = { provider_id: string; upstream_model: string; weight: number; priority: number };

/** the fleet's own providers: tenants can neither change nor delete them, nor make one */
const managed = { managedBy: 'fleet' } as const;

const ctx: AuditContext = {
  actorType: 'system',
  actorId: null,
  ip: null,
  userAgent: 'maas-fleet',
  requestId: null,
};

/** The fleet acts in the deployment's org as a system owner (audited as `system`). */
const principalFor = (orgId: string): UserPrincipal => ({
  kind: 'user',
  userId: 'system:fleet',
  email: 'fleet@maas.local',
  orgId,
  role: 'owner',
  isPlatformAdmin: false,
  sessionId: 'fleet',
});

/** One per placement: a rescheduled replica gets a fresh provider (and circuit breaker). */
const providerName = (depId: string, r: ReplicaRow) =>
  `fleet-${depId}-${r.id}-${(r.nodeId ?? '').slice(-8)}-${r.port}`;
const isNotFound = (err: unknown) => err instanceof AppError && err.status === 404;
const sameTargets = (a: readonly Target[], b: readonly Target[]) =>
  JSON.stringify([...a].sort((x, y) => x.provider_id.localeCompare(y.provider_id))) ===
  JSON.stringify([...b].sort((x, y) => x.provider_id.localeCompare(y.provider_id)));

export function createGatewayTargets(deps: GatewayTargetsDeps) {
  const { db, registry, providers, log } = deps;
  const chains = new Map<string, Promise<void>>();

  async function allFleetProviders(p: UserPrincipal, depId: string) {
    const out: { id: string; name: string; baseUrl: string }[] = [];
    let cursor: string | undefined;
    for (;;) {
      const rows = await providers.list(p, 200, cursor);
      out.push(
        ...rows.slice(0, 200).filter((r) => r.managedBy === 'fleet' && r.name.startsWith(`fleet-${depId}-`)),
      );
      if (rows.length <= 200) return out;
      cursor = rows[199]!.id;
    }
  }

  /** The replica's provider, pointing at its current endpoint (a rescheduled replica moves). */
  async function ensureProvider(p: UserPrincipal, dep: DeploymentRow, r: ReplicaRow): Promise<string> {
    if (r.providerId) return r.providerId;
    const name = providerName(dep.id, r);
    const existing = (await allFleetProviders(p, dep.id)).find((x) => x.name === name);
    const apiKey = r.apiKeySealed ? { api_key: deps.secrets.open(r.apiKeySealed) } : {};
    let id: string;
    if (existing) {
      await providers.update(p, existing.id, { base_url: r.endpoint!, ...apiKey }, ctx, managed);
      id = existing.id;
    } else {
      id = (
        await providers.create(
          p,
          { name, type: 'openai-compatible', base_url: r.endpoint!, timeout_ms: 600_000, ...apiKey },
          ctx,
          managed,
        )
      ).id;
    }
    await db.update(replicas).set({ providerId: id }).where(eq(replicas.id, r.id));
    return id;
  }

  function weightsFor(dep: DeploymentRow, running: Map<string, number>): Record<string, number> {
    const labels = [...running.keys()];
    const current = dep.spec.version;
    if (dep.canary && running.has(current) && labels.length > 1) {
      const others = labels.filter((l) => l !== current);
      const total = others.reduce((s, l) => s + running.get(l)!, 0);
      const out: Record<string, number> = { [current]: dep.canary.weight * 100 };
      for (const l of others)
        out[l] = Math.max(1, Math.round(((100 - dep.canary.weight) * 100 * running.get(l)!) / total));
      return out;
    }
    return Object.fromEntries(labels.map((l) => [l, running.get(l)!]));
  }

  async function syncNow(depId: string): Promise<void> {
    const [dep] = await db.select().from(deployments).where(eq(deployments.id, depId));
    if (!dep) return;
    const p = principalFor(dep.orgId);
    const reps = await db.select().from(replicas).where(eq(replicas.deploymentId, depId));
    const running = reps.filter((r) => r.state === 'running' && r.desired === 'run' && r.endpoint);
    const byVersion = new Map<string, Target[]>();
    for (const r of running) {
      const id = await ensureProvider(p, dep, r);
      const list = byVersion.get(r.spec.version) ?? [];
      list.push({ provider_id: id, upstream_model: dep.name, weight: 1, priority: 0 });
      byVersion.set(r.spec.version, list);
    }
    let model = dep.modelId
      ? await registry.get(p, dep.modelId).catch((err) => (isNotFound(err) ? null : Promise.reject(err)))
      : null;
    if (!model && byVersion.size > 0) {
      const [label, targets] = [...byVersion.entries()][0]!;
      model = await registry.create(
        p,
        {
          name: dep.name,
          type: 'chat',
          targets,
          ...(dep.spec.context_length ? { context_length: dep.spec.context_length } : {}),
        },
        ctx,
      );
      await db.update(deployments).set({ modelId: model.model.id }).where(eq(deployments.id, dep.id));
      if (label !== '1')
        await registry.createVersion(p, model.model.id, { version: label, targets, traffic_weight: 1 }, ctx);
      model = await registry.get(p, model.model.id);
    }
    if (model) {
      const modelId = model.model.id;
      const existing = new Map(model.versions.map((v) => [v.version, v]));
      for (const label of new Set([...byVersion.keys(), ...existing.keys()])) {
        const want = byVersion.get(label) ?? [];
        const have = existing.get(label);
        if (!have) {
          if (want.length) await registry.createVersion(p, modelId, { version: label, targets: want }, ctx);
          continue;
        }
        const targets = want.length ? want : have.targets.map((t) => ({ ...t, weight: 0 }));
        if (targets.length && !sameTargets(have.targets, targets))
          await registry.updateVersion(p, modelId, label, { targets }, ctx);
      }
      const counts = new Map([...byVersion.entries()].map(([l, t]) => [l, t.length]));
      const weights = weightsFor(dep, counts);
      const now = await registry.get(p, modelId);
      const differs = now.versions.some((v) => (weights[v.version] ?? 0) !== v.trafficWeight);
      if (counts.size > 0 && differs) await registry.setTraffic(p, modelId, weights, ctx);
      model = now;
    }
    // Providers of replicas that no longer run and that no version references any more.
    const referenced = new Set(model?.versions.flatMap((v) => v.targets.map((t) => t.provider_id)) ?? []);
    const live = new Set(running.map((r) => r.providerId).filter(Boolean));
    for (const prv of await allFleetProviders(p, dep.id)) {
      if (referenced.has(prv.id) || live.has(prv.id)) continue;
      await providers
        .remove(p, prv.id, ctx, managed)
        .catch((err: unknown) => log.warn({ err, provider: prv.id }, 'could not remove a fleet provider'));
    }
    for (const r of reps) {
      if (r.providerId && !live.has(r.providerId) && !referenced.has(r.providerId)) {
        await db.update(replicas).set({ providerId: null }).where(eq(replicas.id, r.id));
      }
    }
  }

  return {
    /** Brings the registry in step with the deployment's running replicas; calls for one deployment run one at a time. */
    sync(depId: string): Promise<void> {
      const prev = chains.get(depId) ?? Promise.resolve();
      const next = prev
        .then(() => syncNow(depId))
        .catch((err: unknown) => log.warn({ err, deployment: depId }, 'gateway target sync failed'));
      chains.set(depId, next);
      void next.finally(() => {
        if (chains.get(depId) === next) chains.delete(depId);
      });
      return next;
    },

    /** A deleted deployment: its registry model and providers go too. */
    async remove(dep: Pick<DeploymentRow, 'id' | 'orgId' | 'modelId'>): Promise<void> {
      const p = principalFor(dep.orgId);
      if (dep.modelId)
        await registry
          .remove(p, dep.modelId, ctx)
          .catch((err) => (isNotFound(err) ? undefined : Promise.reject(err)));
      for (const prv of await allFleetProviders(p, dep.id))
        await providers.remove(p, prv.id, ctx, managed).catch(() => {});
    },

    /** Waits for the syncs under way (tests, shutdown). */
    async idle(): Promise<void> {
      await Promise.all([...chains.values()]);
    },
  };
}

export type GatewayTargets = ReturnType<typeof createGatewayTargets>;
