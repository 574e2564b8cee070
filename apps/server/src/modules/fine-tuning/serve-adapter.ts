import type { Readable } from 'node:stream';
import { and, eq, isNotNull } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../../db/client.ts';
import { deployments, replicas } from '../../db/schema.ts';
import { AppError } from '../../http/app-error.ts';
import { systemActor } from '../audit/index.ts';
import type { RegistryService } from '../registry/index.ts';
import { fineTunedName } from './dto.ts';
import { type FineTuningJobRow, fineTuningJobs } from './schema.ts';

export interface AdapterServingDeps {
  db: Db;
  files: {
    open(scope: { orgId: string; projectId: string }, id: string): Promise<{ body: Readable }>;
  };
  registry: Pick<RegistryService, 'cache' | 'internal'>;
  /** opens a replica's sealed credential */
  secrets: { open(sealed: string): string };
  log: Logger;
}

const ctx = systemActor('maas-fine-tuning');

type Target = { provider_id: string; upstream_model: string; weight: number; priority: number };

/**
 * A fine-tuned model is served unmerged on its BASE model's deployment: each running llama.cpp
 * replica of the base loads the adapter (from the file store, not from the training node) as a
 * context of its own over the shared weights, and the registry model `ft:<base>:…` routes to the
 * base's deployment provider (every replica) with `upstream_model` set to the adapter's name, which the replica
 * uses to pick the adapter. Requests to the base model reach the base context, as before. A
 * replica that restarts has lost its adapters: `reconcile` loads them again and keeps the fine-
 * tuned model's targets on the base's current replicas.
 */
export function createAdapterServing(deps: AdapterServingDeps) {
  const { db, registry, log } = deps;

  async function baseOf(job: FineTuningJobRow) {
    const [dep] = await db
      .select()
      .from(deployments)
      .where(
        and(
          eq(deployments.orgId, job.orgId),
          eq(deployments.name, job.model),
          eq(deployments.status, 'active'),
        ),
      );
    if (!dep) throw new AppError('unprocessable', `the base deployment '${job.model}' no longer exists`);
    if (dep.spec.runtime !== 'llama-cpp')
      throw new AppError(
        'unprocessable',
        `the base deployment '${job.model}' runs ${dep.spec.runtime}; only llama-cpp replicas load LoRA adapters at run time`,
      );
    const running = await db
      .select()
      .from(replicas)
      .where(
        and(
          eq(replicas.deploymentId, dep.id),
          eq(replicas.state, 'running'),
          eq(replicas.desired, 'run'),
          isNotNull(replicas.endpoint),
        ),
      );
    return { dep, running };
  }

  /** Loads the adapter on one replica unless it has it already; replicas are platform addresses from a node. */
  async function loadOn(
    job: FineTuningJobRow,
    name: string,
    r: { endpoint: string | null; apiKeySealed: string | null },
  ) {
    const origin = r.endpoint!.replace(/\/v1\/?$/, '');
    const auth = { authorization: `Bearer ${r.apiKeySealed ? deps.secrets.open(r.apiKeySealed) : ''}` };
    const listed = await fetch(`${origin}/lora-adapters`, {
      headers: auth,
      signal: AbortSignal.timeout(10_000),
    });
    if (!listed.ok) throw new Error(`replica ${origin}: GET /lora-adapters ${listed.status}`);
    const have = ((await listed.json()) as { data: { id: string }[] }).data;
    if (have.some((a) => a.id === name)) return false;
    const file = await deps.files.open({ orgId: job.orgId, projectId: job.projectId }, job.resultFileId!);
    const chunks: Buffer[] = [];
    for await (const c of file.body) chunks.push(c as Buffer);
    const res = await fetch(`${origin}/lora-adapters?name=${encodeURIComponent(name)}`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/octet-stream' },
      body: Buffer.concat(chunks),
      signal: AbortSignal.timeout(120_000),
    });
    if (!res.ok)
      throw new Error(`replica ${origin}: the adapter did not load: ${(await res.text()).slice(0, 300)}`);
    return true;
  }

  /** The base model's live providers, with the adapter's name as the upstream model, on every replica. */
  async function targetsFor(orgId: string, baseModelId: string | null, name: string): Promise<Target[]> {
    if (!baseModelId) return [];
    const base = await registry.internal.find(db, orgId, baseModelId);
    const providers = new Set(
      (base?.versions ?? [])
        .filter((v) => v.trafficWeight > 0)
        .flatMap((v) => v.targets.filter((t) => t.weight > 0).map((t) => t.provider_id)),
    );
    return [...providers].map((id) => ({ provider_id: id, upstream_model: name, weight: 1, priority: 0 }));
  }

  async function ensureModel(job: FineTuningJobRow, name: string, targets: Target[]) {
    const existing = registry.cache.lookup(job.orgId, name);
    const own = existing && existing.sharedWith === null ? existing : null;
    const published = await db.transaction(async (tx) => {
      const current = own ? await registry.internal.find(tx, job.orgId, own.id) : null;
      const label = current?.versions[0]?.version ?? '1';
      return registry.internal.publish(
        tx,
        {
          orgId: job.orgId,
          modelId: own?.id ?? null,
          name,
          type: 'chat',
          description: `LoRA adapter of ${job.model}, served unmerged on its deployment (fine-tuning job ${job.id})`,
          versions: [{ label, targets }],
          traffic: { [label]: 100 },
        },
        ctx,
      );
    });
    if (published.changed) await registry.internal.changed(published.modelId);
  }

  return {
    /**
     * Loads the job's adapter on every running replica of its base deployment and points the
     * fine-tuned model at them. Throws when the base has no running replica or a replica refuses.
     */
    async ensureServed(job: FineTuningJobRow): Promise<{ replicas: number; loaded: number }> {
      if (!job.resultFileId) throw new AppError('unprocessable', 'the node did not upload the adapter');
      const name = job.fineTunedModel ?? fineTunedName(job);
      const { dep, running } = await baseOf(job);
      if (running.length === 0)
        throw new AppError('unprocessable', `the base deployment '${job.model}' has no running replica`);
      let loaded = 0;
      for (const r of running) if (await loadOn(job, name, r)) loaded++;
      const targets = await targetsFor(job.orgId, dep.modelId, name);
      if (targets.length === 0)
        throw new AppError('unprocessable', `the base model '${job.model}' has no live target yet`);
      await ensureModel(job, name, targets);
      return { replicas: running.length, loaded };
    },

    /** Stops serving (a failed check): the registry model goes; replicas drop the adapter. */
    async withdraw(job: FineTuningJobRow): Promise<void> {
      const name = fineTunedName(job);
      const m = registry.cache.lookup(job.orgId, name);
      if (m && m.sharedWith === null) {
        const removed = await db
          .transaction((tx) => registry.internal.remove(tx, job.orgId, m.id, ctx))
          .catch(() => false);
        if (removed) await registry.internal.changed(m.id);
      }
      const { running } = await baseOf(job).catch(() => ({ running: [] }));
      for (const r of running) {
        const origin = r.endpoint!.replace(/\/v1\/?$/, '');
        await fetch(`${origin}/lora-adapters?name=${encodeURIComponent(name)}`, {
          method: 'DELETE',
          headers: { authorization: `Bearer ${r.apiKeySealed ? deps.secrets.open(r.apiKeySealed) : ''}` },
          signal: AbortSignal.timeout(10_000),
        }).catch(() => {});
      }
    },

    /** Keeps every succeeded adapter on its base's current replicas (restarts, scale-ups). */
    async reconcile(): Promise<void> {
      const jobs = await db
        .select()
        .from(fineTuningJobs)
        .where(and(eq(fineTuningJobs.status, 'succeeded'), isNotNull(fineTuningJobs.resultFileId)))
        .limit(500);
      for (const job of jobs) {
        try {
          await this.ensureServed(job);
        } catch (err) {
          log.debug({ err, job: job.id }, 'a fine-tuned adapter is not served right now');
        }
      }
    },
  };
}

export type AdapterServing = ReturnType<typeof createAdapterServing>;
