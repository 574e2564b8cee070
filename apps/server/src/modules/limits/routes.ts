import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { page, pageOf } from '../../http/pagination.ts';
import { principalOf } from '../../http/principal.ts';
import { actorOf } from '../../http/request-context.ts';
import type { IdentityService } from '../identity/index.ts';
import type { KeyService } from '../keys/index.ts';
import {
  createLimitBody,
  limitParams,
  limitPolicyDto,
  limitUsageDto,
  listLimitsQuery,
  listNotificationsQuery,
  notificationDto,
  toLimitPolicyDto,
  toNotificationDto,
  updateLimitBody,
} from './dto.ts';
import { MONEY_SCALE } from './plan.ts';
import type { LimitFields, LimitService, RequireScope } from './service.ts';

const tags = ['limits'];

type Body = z.infer<typeof updateLimitBody>;
const fieldsOf = (b: Body): LimitFields => ({
  rpm: b.rpm,
  rpd: b.rpd,
  tpm: b.tpm,
  tpd: b.tpd,
  maxConcurrent: b.max_concurrent,
  tokenQuota: b.token_quota,
  quotaPeriod: b.quota_period,
  budget: b.budget,
  budgetPeriod: b.budget_period,
  softThreshold: b.soft_threshold,
  webhookUrl: b.webhook_url,
  description: b.description,
});

export interface LimitRouteDeps {
  limits: LimitService;
  /** a policy's project, user or key must be in the caller's org */
  identity: Pick<IdentityService, 'requireProject' | 'members'>;
  keys: Pick<KeyService, 'get'>;
}

export async function limitRoutes(app: FastifyInstance, { limits, identity, keys }: LimitRouteDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const requireScope: RequireScope = (tx, orgId, scope, id) =>
    scope === 'project'
      ? identity.requireProject(tx, orgId, id)
      : scope === 'user'
        ? identity.members.requireMember(tx, orgId, id)
        : keys.get(orgId, id);

  r.post(
    '/limits',
    {
      schema: {
        tags,
        summary: 'Set rate limits, a token quota or a budget on your org, a project, an API key or a user',
        body: createLimitBody,
        response: { 201: limitPolicyDto },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const b = req.body;
      const row = await limits.create(
        actor,
        { scope: b.scope, scopeId: b.scope_id, model: b.model, ...fieldsOf(b) },
        requireScope,
      );
      return reply.code(201).send(toLimitPolicyDto(row));
    },
  );

  r.get(
    '/limits',
    {
      schema: {
        tags,
        summary: 'List the limit policies of your org, newest first (model=* for all-models policies)',
        querystring: listLimitsQuery,
        response: { 200: pageOf(limitPolicyDto) },
      },
    },
    async (req) => {
      const principal = principalOf(req);
      const q = req.query;
      const rows = await limits.list(
        principal.orgId,
        { scope: q.scope, scopeId: q.scope_id, model: q.model },
        q.limit,
        q.cursor,
      );
      const result = page(rows, q.limit);
      return { data: result.data.map(toLimitPolicyDto), next_cursor: result.next_cursor };
    },
  );

  r.get(
    '/limits/:id',
    {
      schema: { tags, summary: 'Get a limit policy', params: limitParams, response: { 200: limitPolicyDto } },
    },
    async (req) => {
      const principal = principalOf(req);
      return toLimitPolicyDto(await limits.get(principal.orgId, req.params.id));
    },
  );

  r.get(
    '/limits/:id/usage',
    {
      schema: {
        tags,
        summary:
          "Current usage of a policy's counters: windows, requests in flight, quota and budget this period",
        params: limitParams,
        response: { 200: limitUsageDto },
      },
    },
    async (req) => {
      const principal = principalOf(req);
      const { checks, states, nowMs, held } = await limits.usage(principal.orgId, req.params.id);
      const money = (dim: string, n: number) => (dim === 'budget' ? n / MONEY_SCALE : n);
      return {
        policy_id: req.params.id,
        at: new Date(nowMs).toISOString(),
        counters: checks.map((c, i) => {
          const s = states[i]!;
          const end = c.period?.endMs ?? null;
          const batches = c.kind !== 'period' ? 0 : c.dim === 'budget' ? held.costMicros : held.tokens;
          return {
            dimension: c.dim,
            limit: money(c.dim, c.limit),
            used: money(c.dim, s.used),
            reserved: money(c.dim, s.reserved),
            held: money(c.dim, batches),
            remaining: money(c.dim, Math.max(0, c.limit - s.used - s.reserved - batches)),
            reset_ms: c.kind === 'window' ? s.resetMs : end === null ? null : end - nowMs,
            period: c.period?.name ?? null,
            period_start: c.period ? new Date(c.period.startMs).toISOString() : null,
          };
        }),
      };
    },
  );

  r.patch(
    '/limits/:id',
    {
      schema: {
        tags,
        summary: 'Change the limits of a policy (null removes one); scope and model stay',
        params: limitParams,
        body: updateLimitBody,
        response: { 200: limitPolicyDto },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      return toLimitPolicyDto(await limits.update(actor, req.params.id, fieldsOf(req.body)));
    },
  );

  r.delete(
    '/limits/:id',
    {
      schema: {
        tags,
        summary: 'Delete a limit policy; it stops applying on every replica within a second',
        params: limitParams,
        response: { 204: z.null().describe('deleted') },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      await limits.remove(actor, req.params.id);
      return reply.code(204).send(null);
    },
  );

  r.get(
    '/notifications',
    {
      schema: {
        tags,
        summary: 'Alerts of your org, newest first: soft thresholds of token quotas and budgets reached',
        querystring: listNotificationsQuery,
        response: { 200: pageOf(notificationDto) },
      },
    },
    async (req) => {
      const principal = principalOf(req);
      const q = req.query;
      const rows = await limits.listNotifications(
        principal.orgId,
        { policyId: q.policy_id },
        q.limit,
        q.cursor,
      );
      const result = page(rows, q.limit);
      return { data: result.data.map(toNotificationDto), next_cursor: result.next_cursor };
    },
  );
}
