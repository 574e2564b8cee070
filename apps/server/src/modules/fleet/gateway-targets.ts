import { eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../../db/client.ts';
import { systemActor } from '../audit/index.ts';
import type { ProviderService } from '../providers/index.ts';
import type { RegistryService } from '../registry/index.ts';
import { type DeploymentRow, deployments, replicas } from './schema.ts';

/**
 * The glue between the fleet and the gateway, kept in this one file. A deployment is one provider
 * (`fleet-<deployment>`) whose endpoints are its running replicas, each tagged with its version, and
 * one registry model named like the deployment whose versions route to the endpoints of their
 * version; traffic follows the running replicas (or the canary share). A replica leaves the
 * endpoints before it is stopped. A version with nothing running keeps its target and routes
 * nowhere, so the gateway answers "no target available" rather than sending traffic to a dead port.
 *
 * Both are written through the providers' and registry's internal interfaces, in one transaction,
 * as the platform (audited as `system`); replica churn changes only the provider's endpoints.
 */
export interface GatewayTargetsDeps {
  db: Db;
  registry: Pick<RegistryService, 'internal'>;
  providers: Pick<ProviderService, 'internal'>;
  log: Logger;
}

const ctx = systemActor('maas-fleet');

/** The deployment's provider. */
export const deploymentProviderName = (depId: string) => `fleet-${depId}`;
/** One-per-replica providers of earlier versions were named `fleet-<deployment>-<replica>-…`. */
const legacyPrefix = (depId: string) => `fleet-${depId}-`;

/** Version label → traffic weight: the canary's share, or in proportion to the running replicas. */
export function weightsFor(
  dep: Pick<DeploymentRow, 'spec' | 'canary'>,
  running: Map<string, number>,
): Record<string, number> {
  const labels = [...running.keys()];
  if (labels.length === 1) return { [labels[0]!]: 100 };
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

export function createGatewayTargets(deps: GatewayTargetsDeps) {
  const { db, registry, providers, log } = deps;
  const chains = new Map<string, Promise<void>>();

  async function syncNow(depId: string): Promise<void> {
    const done = await db.transaction(async (tx) => {
      // The deployment's row is locked first, as every change to a deployment does before it is
      // audited: taking the audit chain's lock first (through the provider and the model) and the
      // row last deadlocks against a delete or a scale on PostgreSQL. A deployment deleted
      // meanwhile publishes nothing.
      const [dep] = await tx.select().from(deployments).where(eq(deployments.id, depId)).for('update');
      if (!dep) return null;
      const reps = await tx.select().from(replicas).where(eq(replicas.deploymentId, depId));
      const running = reps.filter((r) => r.state === 'running' && r.desired === 'run' && r.endpoint);
      const counts = new Map<string, number>();
      for (const r of running) counts.set(r.spec.version, (counts.get(r.spec.version) ?? 0) + 1);
      const known = dep.modelId ? await registry.internal.find(tx, dep.orgId, dep.modelId) : null;
      // nothing has run yet: nothing to publish
      if (!known && running.length === 0) return null;
      const provider = await providers.internal.setDeploymentEndpoints(
        tx,
        {
          orgId: dep.orgId,
          name: deploymentProviderName(dep.id),
          endpoints: running.map((r) => ({
            id: r.id,
            url: r.endpoint!,
            apiKeySealed: r.apiKeySealed,
            group: r.spec.version,
          })),
        },
        ctx,
      );
      const labels = new Set([...counts.keys(), ...(known?.versions.map((v) => v.version) ?? [])]);
      const model = await registry.internal.publish(
        tx,
        {
          orgId: dep.orgId,
          modelId: known?.model.id ?? null,
          name: dep.name,
          type: 'chat',
          ...(dep.spec.context_length ? { contextLength: dep.spec.context_length } : {}),
          versions: [...labels].map((label) => ({
            label,
            targets: [
              {
                provider_id: provider.id,
                upstream_model: dep.name,
                weight: 1,
                priority: 0,
                endpoint_group: label,
              },
            ],
          })),
          ...(counts.size > 0 ? { traffic: weightsFor(dep, counts) } : {}),
        },
        ctx,
      );
      if (model.modelId !== dep.modelId)
        await tx.update(deployments).set({ modelId: model.modelId }).where(eq(deployments.id, dep.id));
      const legacy = await providers.internal.removeUnusedManaged(tx, dep.orgId, legacyPrefix(dep.id), ctx);
      return { provider, model, legacy };
    });
    if (!done) return;
    if (done.provider.changed) await providers.internal.changed(done.provider.id);
    if (done.model.changed) await registry.internal.changed(done.model.modelId);
    for (const id of done.legacy) await providers.internal.changed(id);
  }

  return {
    /** Brings the gateway in step with the deployment's running replicas; calls for one deployment run one at a time. */
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

    /** A deleted deployment: its registry model and provider go too. */
    async remove(dep: Pick<DeploymentRow, 'id' | 'orgId' | 'modelId'>): Promise<void> {
      const gone = await db.transaction(async (tx) => {
        const model = dep.modelId && (await registry.internal.remove(tx, dep.orgId, dep.modelId, ctx));
        const provider = await providers.internal.removeDeploymentProvider(
          tx,
          dep.orgId,
          deploymentProviderName(dep.id),
          ctx,
        );
        const legacy = await providers.internal.removeUnusedManaged(tx, dep.orgId, legacyPrefix(dep.id), ctx);
        return { model: model ? dep.modelId : null, providers: [...(provider ? [provider] : []), ...legacy] };
      });
      if (gone.model) await registry.internal.changed(gone.model);
      for (const id of gone.providers) await providers.internal.changed(id);
    },

    /** Waits for the syncs under way (tests, shutdown). */
    async idle(): Promise<void> {
      await Promise.all([...chains.values()]);
    },
  };
}

export type GatewayTargets = ReturnType<typeof createGatewayTargets>;
