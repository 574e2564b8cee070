import { eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../../db/client.ts';
import type { Bus } from '../../events/bus.ts';
import { changeTopic } from '../../events/change-topic.ts';
import { createReplicatedCache } from '../../events/replicated-cache.ts';
import type { KeyPrincipal } from '../../http/principal.ts';
import type { AuditService } from '../audit/index.ts';
import type { Violation } from './check.ts';
import { type CompiledGuardrail, compileGuardrail, type Pipeline, pipelineOf } from './compile.ts';
import { type Classifier, GUARDRAIL_CALL } from './moderation.ts';
import { RequestGuard } from './request-guard.ts';
import { guardrailAttachments, guardrails } from './schema.ts';

export const GUARDRAILS_CHANGED = changeTopic('guardrails.changed');

/** What the book reads and writes of a /v1 request (the gateway's RequestState has these). */
export interface GuardedRequest {
  requestId: string;
  key: KeyPrincipal;
  modelName: string;
  stream: boolean;
  outcome: string;
  errorCode: string | null;
  guard: RequestGuard | null;
}

type Link = typeof guardrailAttachments.$inferSelect;

interface Attached {
  guardrail: CompiledGuardrail;
  links: Link[];
}

const AUDIT_ACTIONS: Record<Violation['outcome'], string> = {
  blocked: 'guardrail.block',
  failed_closed: 'guardrail.block',
  flagged: 'guardrail.flag',
  failed_open: 'guardrail.error',
};

/**
 * Every enabled guardrail, compiled, with the pipeline of each model and key it is attached to:
 * the request path does two map lookups (none configured: nothing else). A replicated cache, read
 * whole on each `guardrails.changed` message (from any replica) and every minute in case one was lost.
 */
export function createGuardrailBook(deps: {
  db: Db;
  bus: Bus;
  log: Logger;
  audit: AuditService;
  classify: Classifier;
  resyncIntervalMs?: number;
}) {
  const { db, log, audit } = deps;
  let byModel = new Map<string, Pipeline>();
  let byKey = new Map<string, Pipeline>();
  const auditing = new Set<Promise<unknown>>();

  /** each enabled guardrail, compiled, with what it is attached to */
  const cache = createReplicatedCache<Attached>({
    name: 'guardrails',
    bus: deps.bus,
    topic: GUARDRAILS_CHANGED,
    log,
    async loadAll() {
      const [rows, links] = await Promise.all([
        db.select().from(guardrails).where(eq(guardrails.enabled, true)),
        db.select().from(guardrailAttachments),
      ]);
      const attached = new Map(
        rows.map((r) => [r.id, { guardrail: compileGuardrail(r), links: [] as Link[] }]),
      );
      for (const link of links) {
        const entry = attached.get(link.guardrailId);
        if (entry && entry.guardrail.orgId === link.orgId) entry.links.push(link);
      }
      return attached;
    },
    onChange(entries) {
      const models = new Map<string, CompiledGuardrail[]>();
      const keys = new Map<string, CompiledGuardrail[]>();
      for (const { guardrail, links } of entries.values()) {
        for (const link of links) {
          const into = link.targetType === 'model' ? models : keys;
          into.set(link.targetId, [...(into.get(link.targetId) ?? []), guardrail]);
        }
      }
      byModel = new Map([...models].map(([id, list]) => [id, pipelineOf(list)]));
      byKey = new Map([...keys].map(([id, list]) => [id, pipelineOf(list)]));
    },
    resyncIntervalMs: deps.resyncIntervalMs ?? 60_000,
  });

  function report(state: GuardedRequest, v: Violation): void {
    const g = v.guardrail;
    const write = db
      .transaction((tx) =>
        audit.append(
          tx,
          {
            actorType: 'key',
            actorId: state.key.keyId,
            ip: null,
            userAgent: null,
            requestId: state.requestId,
          },
          {
            orgId: g.orgId,
            action: AUDIT_ACTIONS[v.outcome],
            target: { type: 'guardrail', id: g.id },
            // the rule and the count, never the matched text
            after: {
              rule: v.rule,
              stage: v.stage,
              outcome: v.outcome,
              matches: v.matches,
              action: g.action,
              model: state.modelName,
              key_id: state.key.keyId,
            },
          },
        ),
      )
      .catch((err: unknown) => log.error({ err, request_id: state.requestId }, 'guardrails: audit failed'))
      .finally(() => auditing.delete(write));
    auditing.add(write);
  }

  return {
    /**
     * The guard of a request to `model` (its own guardrails and its key's), set on the request;
     * null, at the cost of two map lookups, when neither has any.
     */
    forRequest(state: GuardedRequest, modelId: string): RequestGuard | null {
      if (byModel.size === 0 && byKey.size === 0) return null;
      if ((state.key as unknown as Record<symbol, unknown>)[GUARDRAIL_CALL]) return null;
      const a = byModel.get(modelId);
      const b = byKey.get(state.key.keyId);
      const pipeline = a && b ? pipelineOf([...a.guardrails, ...b.guardrails]) : (a ?? b);
      if (!pipeline) return null;
      const guard = new RequestGuard(
        pipeline,
        {
          classify: (g, text, stage) => deps.classify(g, text, stage, state.key),
          report: (v) => report(state, v),
        },
        () => {
          state.outcome = 'rejected';
          state.errorCode = 'content_policy_violation';
        },
      );
      if (state.stream && pipeline.moderatesOutput) {
        state.stream = false;
        guard.replayAsStream = true;
      }
      state.guard = guard;
      return guard;
    },

    start: () => cache.start(),

    /** After a change: reloads here, and tells the other replicas. */
    changed: () => cache.changed(),

    async stop(): Promise<void> {
      await cache.close();
      await Promise.all([...auditing]);
    },
  };
}

export type GuardrailBook = ReturnType<typeof createGuardrailBook>;
