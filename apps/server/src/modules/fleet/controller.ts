import { and, eq, inArray, isNull, lt, ne, or, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { SecretBox } from '../../crypto/secret-box.ts';
import type { Db, Tx } from '../../db/client.ts';
import { newId } from '../../ids.ts';
import type { AgentService } from './agent-service.ts';
import type { FleetConfig } from './config.ts';
import type { GatewayTargets } from './gateway-targets.ts';
import type { PlacementOutcome } from './placement-class.ts';
import { planRollout } from './rollout.ts';
import { schedulePending } from './schedule-pending.ts';
import { deployments, nodes, replicas } from './schema.ts';
import { issueFleetSecret, REPLICA_KEY_PREFIX } from './secrets.ts';

export interface ControllerDeps {
  db: Db;
  log: Logger;
  config: FleetConfig;
  agents: AgentService;
  targets: GatewayTargets;
  /** seals the credential each placed replica gets */
  secrets: SecretBox;
  now?: () => number;
  /** told of each replica's placement attempt (metrics) */
  onPlacement?: (outcome: PlacementOutcome) => void;
}

interface PassResult {
  nodeIds: Set<string>;
  deploymentIds: Set<string>;
  /** deployments whose last replica is gone: remove them with their registry model */
  finished: { id: string; orgId: string; modelId: string | null }[];
}

/**
 * The fleet's reconcile loop. Each pass, in one transaction that only one server runs at a time:
 * nodes that stopped reporting become unreachable and their replicas go back to pending; each
 * deployment's replicas are created or retired (scale, rolling update, canary, drain); replicas
 * that left the gateway long enough ago are told to stop; pending replicas are placed. Then the
 * gateway targets follow and the affected agents are told to re-read their desired state.
 */
export function createController(deps: ControllerDeps) {
  const { db, log, config, agents, targets } = deps;
  const now = deps.now ?? Date.now;
  const issueKey = () => deps.secrets.seal(issueFleetSecret(REPLICA_KEY_PREFIX).secret);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;

  async function markUnreachable(tx: Tx, at: Date, out: PassResult) {
    const cutoff = new Date(at.getTime() - config.nodeTimeoutMs);
    const stale = await tx
      .update(nodes)
      .set({ status: 'unreachable', updatedAt: at })
      .where(
        and(
          eq(nodes.status, 'ready'),
          or(
            lt(nodes.lastHeartbeatAt, cutoff),
            and(isNull(nodes.lastHeartbeatAt), lt(nodes.updatedAt, cutoff)),
          ),
        ),
      )
      .returning({ id: nodes.id, name: nodes.name });
    if (stale.length === 0) return;
    const ids = stale.map((n) => n.id);
    const names = new Map(stale.map((n) => [n.id, n.name]));
    const affected = await tx.select().from(replicas).where(inArray(replicas.nodeId, ids));
    for (const r of affected) {
      out.deploymentIds.add(r.deploymentId);
      if (r.desired === 'stop') {
        await tx.delete(replicas).where(eq(replicas.id, r.id));
        continue;
      }
      await tx
        .update(replicas)
        .set({
          state: 'pending',
          nodeId: null,
          port: null,
          endpoint: null,
          gpuIndexes: [],
          memoryBytes: 0,
          progress: null,
          reason: `node ${names.get(r.nodeId!)} stopped reporting; rescheduling`,
          updatedAt: at,
        })
        .where(eq(replicas.id, r.id));
    }
    log.warn(
      { nodes: stale.map((n) => n.name), replicas: affected.length },
      'nodes unreachable: replicas rescheduled',
    );
  }

  async function rollouts(tx: Tx, at: Date, out: PassResult) {
    const deps = await tx.select().from(deployments);
    const draining = new Set(
      (await tx.select({ id: nodes.id }).from(nodes).where(eq(nodes.draining, true))).map((n) => n.id),
    );
    const all = await tx.select().from(replicas);
    for (const dep of deps) {
      const mine = all.filter((r) => r.deploymentId === dep.id);
      if (dep.status === 'deleting' && mine.length === 0) {
        await tx.delete(deployments).where(eq(deployments.id, dep.id));
        out.finished.push({ id: dep.id, orgId: dep.orgId, modelId: dep.modelId });
        continue;
      }
      const plan = planRollout(
        dep,
        mine.filter((r) => r.desired === 'run'),
        draining,
      );
      if (plan.create > 0) {
        await tx.insert(replicas).values(
          Array.from({ length: plan.create }, () => ({
            id: newId('rep'),
            orgId: dep.orgId,
            deploymentId: dep.id,
            revision: dep.revision,
            spec: dep.spec,
            state: 'pending' as const,
            createdAt: at,
            updatedAt: at,
          })),
        );
      }
      if (plan.stop.length > 0) {
        await tx
          .update(replicas)
          .set({ desired: 'stop', updatedAt: at })
          .where(
            inArray(
              replicas.id,
              plan.stop.map((r) => r.id),
            ),
          );
        out.deploymentIds.add(dep.id);
      }
    }
  }

  /** Replicas out of the gateway for the drain period are told to stop; unplaced ones just go. */
  async function stopLeavers(tx: Tx, at: Date, out: PassResult) {
    const unplaced = await tx
      .delete(replicas)
      .where(
        and(
          eq(replicas.desired, 'stop'),
          or(isNull(replicas.nodeId), inArray(replicas.state, ['pending', 'stopped'])),
        ),
      )
      .returning({ deploymentId: replicas.deploymentId });
    for (const r of unplaced) out.deploymentIds.add(r.deploymentId);
    const due = await tx
      .update(replicas)
      .set({ state: 'stopping', updatedAt: at })
      .where(
        and(
          eq(replicas.desired, 'stop'),
          ne(replicas.state, 'stopping'),
          lt(replicas.updatedAt, new Date(at.getTime() - config.replicaDrainMs + 1)),
        ),
      )
      .returning({ nodeId: replicas.nodeId });
    for (const r of due) if (r.nodeId) out.nodeIds.add(r.nodeId);
  }

  async function pass(): Promise<void> {
    const at = new Date(now());
    const out: PassResult = { nodeIds: new Set(), deploymentIds: new Set(), finished: [] };
    const ran = await db.transaction(async (tx) => {
      const [lock] = await tx
        .execute<{ ok: boolean }>(sql`select pg_try_advisory_xact_lock(hashtext('fleet:controller')) as ok`)
        .then(
          (r) =>
            ((r as { rows?: { ok: boolean }[] }).rows ?? (r as unknown as { ok: boolean }[])) as {
              ok: boolean;
            }[],
        );
      if (!lock?.ok) return false;
      await markUnreachable(tx, at, out);
      await stopLeavers(tx, at, out);
      await rollouts(tx, at, out);
      const placed = await schedulePending(tx, issueKey, at, deps.onPlacement);
      for (const id of placed.nodeIds) out.nodeIds.add(id);
      for (const id of placed.deploymentIds) out.deploymentIds.add(id);
      // Replicas newly told to stop leave the gateway now; their nodes hear of it after the drain period.
      return true;
    });
    if (!ran) return;
    await Promise.all([...out.deploymentIds].map((id) => targets.sync(id)));
    for (const dep of out.finished)
      await targets
        .remove(dep)
        .catch((err: unknown) => log.warn({ err }, 'could not remove a deployment’s model'));
    await agents.publish(out.nodeIds);
  }

  const run = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = pass()
      .catch((err: unknown) => log.error({ err }, 'fleet reconcile pass failed'))
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
    /** Runs a pass now (or right after the one under way). */
    kick: run,
    /** Places pending replicas in the caller's transaction; each placement gets its own credential. */
    placePending: (tx: Tx, at?: Date) => schedulePending(tx, issueKey, at, deps.onPlacement),
    /** A pass that starts after this call has finished. */
    async settle(): Promise<void> {
      await running;
      await run();
    },
    start() {
      timer = setInterval(() => void run(), config.reconcileMs);
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

export type Controller = ReturnType<typeof createController>;
