import { createReadStream, mkdtempSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EmbeddedAgent, EmbeddedTrainer } from '@maas/contracts/agent';
import { and, eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../../db/client.ts';
import { deployments } from '../../db/schema.ts';
import type { KeyPrincipal } from '../../http/principal.ts';
import type { JobEngine } from '../jobs/index.ts';
import { createDispatch } from './dispatch.ts';
import { publish } from './publish.ts';
import { registerRunJob } from './run-job.ts';
import { type AdapterServingDeps, createAdapterServing } from './serve-adapter.ts';
import { createFineTuningService, type FineTuningFiles } from './service.ts';

export { fineTuningRoutes } from './routes.ts';
export { fineTuningCheckpoints, fineTuningEvents, fineTuningJobs, trainingNodes } from './schema.ts';
export type { FineTuningService } from './service.ts';
export { splitDataset, validateDataset } from './validate-dataset.ts';

export interface FineTuningDeps {
  db: Db;
  jobs: JobEngine;
  files: FineTuningFiles;
  log: Logger;
  dataDir: string;
  /** the in-process node (when `maas serve` runs one): its agent offers the trainer too */
  localNode: { ensure: () => Promise<{ id: string }>; agent: EmbeddedAgent } | null;
  /** USD per million trained tokens */
  pricePerMillionTokens?: number;
  /** the registry and the replicas' credentials: adapters are served on their base's replicas */
  registry: AdapterServingDeps['registry'];
  secrets: AdapterServingDeps['secrets'];
  /** one chat completion through the gateway's path (runInternal), for the parity check */
  chat: (key: KeyPrincipal, body: Record<string, unknown>) => Promise<{ status: number; body: unknown }>;
  currentKey: (keyId: string) => KeyPrincipal | null;
  /** how long serving the adapter and the parity check may take */
  publishDeadlineMs?: number;
  /** how often served adapters are checked on their base's replicas */
  reconcileMs?: number;
  /** a training node silent this long is gone */
  nodeLostMs?: number;
}

/**
 * Fine-tuning: /v1/fine_tuning/jobs on the job engine; runs placed on fleet nodes whose agents
 * offer the LoRA trainer preset; the trainer's lines become events, checkpoints and usage.
 */
export function createFineTuning(deps: FineTuningDeps) {
  const { db, log } = deps;
  let loop: EmbeddedTrainer | null = null;
  let localId: string | null = null;
  let starting: Promise<void> | null = null;
  const notify = (nodeId: string | null) => {
    if (nodeId && nodeId === localId) loop?.nudge();
  };
  const dispatch = createDispatch({ db, files: deps.files, log });
  const serving = createAdapterServing({
    db,
    files: deps.files,
    registry: deps.registry,
    secrets: deps.secrets,
    log,
  });
  const publishDeps = {
    db,
    files: deps.files,
    serving,
    chat: deps.chat,
    currentKey: deps.currentKey,
    priceNanosPerToken: Math.round(((deps.pricePerMillionTokens ?? 3) * 1e9) / 1e6),
    log,
    deadlineMs: deps.publishDeadlineMs ?? 300_000,
  };
  let reconciler: NodeJS.Timeout | undefined;
  registerRunJob({
    db,
    jobs: deps.jobs,
    log,
    notify,
    publish: (row, signal) => publish(publishDeps, row, signal),
    nodeLostMs: deps.nodeLostMs ?? 30_000,
    pollMs: 1_000,
    concurrency: 8,
  });
  const service = createFineTuningService({
    db,
    files: deps.files,
    jobs: deps.jobs,
    notify,
    serving,
    priceNanosPerToken: publishDeps.priceNanosPerToken,
    async baseSource(orgId, model) {
      const [row] = await db
        .select({ spec: deployments.spec })
        .from(deployments)
        .where(
          and(eq(deployments.orgId, orgId), eq(deployments.name, model), eq(deployments.status, 'active')),
        );
      return row?.spec.source ?? null;
    },
  });

  return {
    service,
    dispatch,
    start() {
      reconciler = setInterval(
        () => void serving.reconcile().catch((err: unknown) => log.warn({ err }, 'adapter reconcile failed')),
        deps.reconcileMs ?? 10_000,
      );
      reconciler.unref();
    },
    /** The local node's trainer, when the server runs one (see Services.startLocalNode). */
    startLocalTrainer() {
      const localNode = deps.localNode;
      if (!localNode) return;
      const dir = deps.dataDir.startsWith('memory://')
        ? mkdtempSync(join(tmpdir(), 'maas-trainer-'))
        : join(deps.dataDir, 'agent');
      starting = (async () => {
        const node = await localNode.ensure();
        localId = node.id;
        loop = await localNode.agent.startTrainer({
          dataDir: dir,
          transport: {
            poll: (body) => dispatch.poll(node.id, body),
            data: (id) => dispatch.data(node.id, id),
            async upload(id, artifact, path) {
              const size = (await stat(path)).size;
              await dispatch.upload(node.id, id, artifact, createReadStream(path), size);
            },
          },
          log: (msg, extra) => log.info({ ...extra, agent: 'local' }, msg),
        });
        if (loop) log.info({ torch: loop.torch }, 'the local node offers fine-tuning');
      })().catch((err: unknown) => log.error({ err }, 'the local trainer did not start'));
    },
    async stop() {
      clearInterval(reconciler);
      await starting;
      await loop?.stop();
    },
  };
}

export type FineTuning = ReturnType<typeof createFineTuning>;
export { trainingAgentRoutes } from './agent-routes.ts';
