import { hostname as osHostname } from 'node:os';
import type { DesiredState, ReplicaReport, StatusReport } from '@maas/contracts/agent';
import { eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { SecretBox } from '../../crypto/secret-box.ts';
import type { Db } from '../../db/client.ts';
import { type Bus, topic } from '../../events/bus.ts';
import { AppError } from '../../http/app-error.ts';
import { newId } from '../../ids.ts';
import { type AuditService, systemActor } from '../audit/index.ts';
import type { FleetConfig } from './config.ts';
import { desiredFor } from './desired-state.ts';
import { type RegisterInput, registerNode } from './register-node.ts';
import { type NodeRow, nodes, type ReplicaRow, replicas } from './schema.ts';
import { hashFleetSecret, NODE_TOKEN_PREFIX } from './secrets.ts';

export const FLEET_DESIRED = topic('fleet.desired', z.object({ node_ids: z.array(z.string().max(200)) }));
const LOG_LINES = 200;

export interface AgentServiceDeps {
  db: Db;
  audit: AuditService;
  bus: Bus;
  log: Logger;
  config: FleetConfig;
  /** opens the replica credentials sent in the desired state */
  secrets: SecretBox;
  /** replicas changed in a way the controller should act on (running-ness, fatal failures) */
  onChanged(deploymentIds: Set<string>): void;
}

/** The server's half of the agent protocol: registration, status reports, desired state and its push. */
export function createAgentService(deps: AgentServiceDeps) {
  const { db, audit, bus, log, config } = deps;
  const watchers = new Map<string, Set<() => void>>();

  const notify = (nodeIds: Iterable<string>) => {
    for (const id of nodeIds) for (const fn of watchers.get(id) ?? []) fn();
  };

  async function register(input: RegisterInput, ip: string | null) {
    const { node, nodeToken } = await registerNode({ db, audit }, input, systemActor('maas-agent', ip));
    log.info({ node: node.name, id: node.id }, 'node registered');
    return { node_id: node.id, node_token: nodeToken, heartbeat_interval_ms: config.heartbeatMs };
  }

  async function authenticate(token: string | null): Promise<NodeRow> {
    if (!token?.startsWith(NODE_TOKEN_PREFIX))
      throw new AppError('unauthenticated', 'send the node credential: Authorization: Bearer maas-node-…');
    const [node] = await db
      .select()
      .from(nodes)
      .where(eq(nodes.tokenHash, hashFleetSecret(token)));
    if (!node) throw new AppError('invalid_token', 'unknown node credential (was the node deleted?)');
    return node;
  }

  /** The in-process agent of `maas serve`: a node that needs no join token. */
  async function ensureLocalNode(name = `${osHostname()}-local`): Promise<NodeRow> {
    const [existing] = await db.select().from(nodes).where(eq(nodes.local, true));
    if (existing) return existing;
    const [row] = await db
      .insert(nodes)
      .values({
        id: newId('nod'),
        name,
        hostname: osHostname(),
        local: true,
        labels: { 'maas/local': 'true' },
      })
      .onConflictDoNothing()
      .returning();
    if (row) return row;
    const [byName] = await db.select().from(nodes).where(eq(nodes.name, name));
    if (byName?.local) return byName;
    // An agent took the name first: the local node never becomes a node an agent holds a credential for.
    const id = newId('nod');
    return ensureLocalNode(`${name.slice(0, 56)}-${id.slice(-6)}`);
  }

  /** Applies one replica's report; returns true when the controller should look at its deployment. */
  function applyReport(
    r: ReplicaRow,
    rep: ReplicaReport,
    node: NodeRow,
    now: Date,
  ): { set: Partial<ReplicaRow> | 'delete' | null; act: boolean } {
    const logs = rep.logs?.length ? [...r.logTail, ...rep.logs].slice(-LOG_LINES) : null;
    if (r.desired === 'stop' || r.state === 'stopping') {
      if (rep.state === 'stopped') return { set: 'delete', act: true };
      return { set: logs ? { logTail: logs } : null, act: false };
    }
    if (!['downloading', 'starting', 'running', 'failed'].includes(rep.state))
      return { set: logs ? { logTail: logs } : null, act: false };
    if (rep.fatal) {
      return {
        set: {
          state: 'pending',
          nodeId: null,
          port: null,
          endpoint: null,
          gpuIndexes: [],
          memoryBytes: 0,
          progress: null,
          reason: `failed on node ${node.name}: ${rep.reason ?? 'unknown error'}; placing it elsewhere`,
          excludedNodes: [...new Set([...r.excludedNodes, node.id])],
          ...(logs ? { logTail: logs } : {}),
          updatedAt: now,
        },
        act: true,
      };
    }
    const set: Partial<ReplicaRow> = {
      state: rep.state,
      reason: rep.reason ?? null,
      // an adopted runtime's new agent counts from zero: the count only grows
      restarts: Math.max(rep.restarts ?? 0, r.restarts),
      progress: rep.progress ?? null,
      ...(logs ? { logTail: logs } : {}),
    };
    const changed =
      set.state !== r.state ||
      set.reason !== r.reason ||
      set.restarts !== r.restarts ||
      JSON.stringify(set.progress) !== JSON.stringify(r.progress);
    if (!changed && !logs) return { set: null, act: false };
    if (changed) set.updatedAt = now;
    if (rep.state === 'running' && r.state !== 'running') set.startedAt = now;
    return { set, act: (rep.state === 'running') !== (r.state === 'running') };
  }

  async function report(
    node: NodeRow,
    body: StatusReport,
    ip: string | null,
  ): Promise<{ desired_version: string }> {
    const now = new Date();
    const act = new Set<string>();
    const wasUnreachable = node.status === 'unreachable';
    await db.transaction(async (tx) => {
      await tx
        .update(nodes)
        .set({
          hostname: body.hostname,
          address: body.address || ip || node.address,
          resources: body.resources,
          runtimes: body.runtimes,
          files: body.files,
          modelDirs: body.model_dirs,
          portFrom: body.port_range[0],
          portTo: body.port_range[1],
          agentVersion: body.agent_version,
          status: 'ready',
          lastHeartbeatAt: now,
          updatedAt: now,
        })
        .where(eq(nodes.id, node.id));
      const mine = await tx.select().from(replicas).where(eq(replicas.nodeId, node.id));
      const reported = new Map(body.replicas.map((r) => [r.id, r]));
      for (const r of mine) {
        const rep = reported.get(r.id);
        if (!rep) {
          // Told to stop and no longer on the node: gone.
          if (r.state === 'stopping') {
            await tx.delete(replicas).where(eq(replicas.id, r.id));
            act.add(r.deploymentId);
          }
          continue;
        }
        const { set, act: should } = applyReport(r, rep, node, now);
        if (set === 'delete') await tx.delete(replicas).where(eq(replicas.id, r.id));
        else if (set) await tx.update(replicas).set(set).where(eq(replicas.id, r.id));
        if (should) act.add(r.deploymentId);
      }
    });
    if (wasUnreachable) log.info({ node: node.name }, 'node is reachable again');
    if (act.size > 0 || wasUnreachable) deps.onChanged(act);
    return { desired_version: (await desiredFor(db, node.id, deps.secrets)).version };
  }

  return {
    register,
    authenticate,
    ensureLocalNode,
    report,
    /** For the in-process agent, which has no credential to present. */
    async reportFor(nodeId: string, body: StatusReport, ip: string | null) {
      const [node] = await db.select().from(nodes).where(eq(nodes.id, nodeId));
      if (!node) throw new AppError('not_found', 'node not found');
      return report(node, body, ip);
    },
    desired: (nodeId: string): Promise<DesiredState> => desiredFor(db, nodeId, deps.secrets),
    /** Calls `fn` whenever the node's desired state may have changed (on any server replica). */
    watch(nodeId: string, fn: () => void): () => void {
      const set = watchers.get(nodeId) ?? new Set<() => void>();
      watchers.set(nodeId, set);
      set.add(fn);
      return () => {
        set.delete(fn);
        if (set.size === 0) watchers.delete(nodeId);
      };
    },
    /** Tells the agents of these nodes (through whichever server holds their watch) to re-read. */
    async publish(nodeIds: Iterable<string>): Promise<void> {
      const ids = [...new Set(nodeIds)];
      if (ids.length === 0) return;
      await bus.publish(FLEET_DESIRED, { node_ids: ids }).catch((err: unknown) => {
        log.warn({ err }, 'could not push desired state to other replicas');
        notify(ids);
      });
    },
    start() {
      bus.subscribe(FLEET_DESIRED, ({ node_ids }) => notify(node_ids));
    },
  };
}

export type AgentService = ReturnType<typeof createAgentService>;
