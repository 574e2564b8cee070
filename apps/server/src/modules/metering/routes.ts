import { stringify } from 'csv-stringify/sync';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../../db/client.ts';
import { AppError } from '../../http/app-error.ts';
import { listQuery, page, pageOf } from '../../http/pagination.ts';
import { idParams } from '../../http/params.ts';
import { principalOf } from '../../http/principal.ts';
import { auditContextOf } from '../../http/request-context.ts';
import type { BillLineRow, BillRow } from './bills.ts';
import { nanosToPerMillion, type PriceRow } from './price-book.ts';
import type { MeteringService } from './service.ts';
import { queryUsage, USAGE_DIMENSIONS, type UsageDimension, type UsageRow } from './usage-query.ts';

const money = (nanos: number) => Math.round(nanos / 1e3) / 1e6;

const priceDto = z.object({
  id: z.string(),
  model_id: z.string(),
  version_id: z.string().nullable(),
  currency: z.string(),
  input_per_million: z.number(),
  cached_input_per_million: z.number(),
  output_per_million: z.number(),
  reasoning_per_million: z.number(),
  batch_discount_percent: z.number(),
  image_prices: z.record(z.string(), z.number()),
  audio_per_second: z.number(),
  characters_per_million: z.number(),
  effective_from: z.string(),
  created_at: z.string(),
});
const toPriceDto = (r: PriceRow): z.infer<typeof priceDto> => ({
  id: r.id,
  model_id: r.modelId,
  version_id: r.versionId,
  currency: r.currency,
  input_per_million: nanosToPerMillion(r.inputNanos),
  cached_input_per_million: nanosToPerMillion(r.cachedInputNanos),
  output_per_million: nanosToPerMillion(r.outputNanos),
  reasoning_per_million: nanosToPerMillion(r.reasoningNanos),
  batch_discount_percent: r.batchDiscountPercent,
  image_prices: Object.fromEntries(Object.entries(r.imageNanos).map(([k, v]) => [k, v / 1e9])),
  audio_per_second: r.audioSecondNanos / 1e9,
  characters_per_million: nanosToPerMillion(r.characterNanos),
  effective_from: r.effectiveFrom.toISOString(),
  created_at: r.createdAt.toISOString(),
});
const perMillion = z.number().min(0).max(1_000_000);

const totalsDto = z.object({
  requests: z.number(),
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
  cached_tokens: z.number(),
  reasoning_tokens: z.number(),
  images: z.number(),
  audio_seconds: z.number(),
  characters: z.number(),
  cost: z.number(),
});
const lineDto = totalsDto.extend({ project_id: z.string(), model: z.string(), currency: z.string() });
const billDto = z.object({
  id: z.string(),
  period: z.string(),
  status: z.enum(['draft', 'finalized']),
  totals: z.record(z.string(), totalsDto),
  created_at: z.string(),
  updated_at: z.string(),
  finalized_at: z.string().nullable(),
  lines: z.array(lineDto).optional(),
});
const toBillDto = (b: BillRow, lines?: BillLineRow[]): z.infer<typeof billDto> => ({
  id: b.id,
  period: b.period,
  status: b.status,
  totals: Object.fromEntries(
    Object.entries(b.totals).map(([currency, t]) => [
      currency,
      {
        requests: t.requests,
        prompt_tokens: t.prompt_tokens,
        completion_tokens: t.completion_tokens,
        cached_tokens: t.cached_tokens,
        reasoning_tokens: t.reasoning_tokens,
        images: t.images ?? 0,
        audio_seconds: (t.audio_ms ?? 0) / 1000,
        characters: t.characters ?? 0,
        cost: money(t.cost_nanos),
      },
    ]),
  ),
  created_at: b.createdAt.toISOString(),
  updated_at: b.updatedAt.toISOString(),
  finalized_at: b.finalizedAt?.toISOString() ?? null,
  ...(lines
    ? {
        lines: lines.map((l) => ({
          project_id: l.projectId,
          model: l.modelName,
          currency: l.currency,
          requests: l.requests,
          prompt_tokens: l.promptTokens,
          completion_tokens: l.completionTokens,
          cached_tokens: l.cachedTokens,
          reasoning_tokens: l.reasoningTokens,
          images: l.images,
          audio_seconds: l.audioMs / 1000,
          characters: l.characters,
          cost: money(l.costNanos),
        })),
      }
    : {}),
});

const usageQuery = z.strictObject({
  group_by: z
    .string()
    .max(100)
    .default('model')
    .transform((v, ctx) => {
      const dims = v
        .split(',')
        .map((d) => d.trim())
        .filter(Boolean);
      const bad = dims.filter((d) => !(USAGE_DIMENSIONS as readonly string[]).includes(d));
      if (bad.length)
        ctx.addIssue({
          code: 'custom',
          message: `unknown group_by ${bad.join(', ')}; use ${USAGE_DIMENSIONS.join(', ')}`,
        });
      return [...new Set(dims)] as UsageDimension[];
    }),
  granularity: z.enum(['hour', 'day']).default('day'),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  project_id: z.string().max(100).optional(),
  key_id: z.string().max(100).optional(),
  user_id: z.string().max(100).optional().describe('only keys this user created'),
  model: z.string().max(200).optional(),
  format: z.enum(['json', 'csv']).default('json'),
});

const DAY = 86_400_000;

const n = z.number();
const usageRow = z.object({
  bucket_start: z.string(),
  org_id: z.string().optional(),
  project_id: z.string().optional(),
  key_id: z.string().optional(),
  user_id: z.string().optional().describe('the user who created the key (empty when a key created it)'),
  model: z.string().optional(),
  currency: z.string(),
  requests: n,
  errors: n,
  prompt_tokens: n,
  completion_tokens: n,
  cached_tokens: n,
  reasoning_tokens: n,
  total_tokens: n,
  images: n,
  audio_seconds: n,
  characters: n,
  cost: n,
  latency_avg_ms: n,
  latency_p50_ms: n,
  latency_p95_ms: n,
}) satisfies z.ZodType<UsageRow>;
/** The JSON answer; `format=csv` answers text/csv, which no serializer touches. */
const usageResult = z.object({
  object: z.literal('usage'),
  granularity: z.enum(['hour', 'day']),
  group_by: z.array(z.enum(USAGE_DIMENSIONS)),
  from: z.string(),
  to: z.string(),
  data: z.array(usageRow),
  totals: z.array(usageRow).describe('one row per group over the whole period'),
});
type UsageResult = z.infer<typeof usageResult>;

export interface MeteringRouteDeps {
  metering: Pick<MeteringService, 'priceBook' | 'bills'>;
  /** usage is read straight from its table */
  db: Db;
}

export async function meteringRoutes(app: FastifyInstance, { metering, db }: MeteringRouteDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { priceBook, bills } = metering;

  r.get(
    '/prices',
    {
      schema: {
        tags: ['prices'],
        summary: 'The price book',
        querystring: listQuery.extend({ model_id: z.string().max(100).optional() }),
        response: { 200: pageOf(priceDto) },
      },
    },
    async (req) => {
      const rows = await priceBook.list(
        principalOf(req),
        { modelId: req.query.model_id },
        req.query.limit,
        req.query.cursor,
      );
      const result = page(rows, req.query.limit);
      return { data: result.data.map(toPriceDto), next_cursor: result.next_cursor };
    },
  );

  r.post(
    '/prices',
    {
      schema: {
        tags: ['prices'],
        summary: 'Add a price for a model (or one version) from a date; earlier requests keep their price',
        body: z.strictObject({
          model_id: z.string().max(100),
          version_id: z.string().max(100).nullable().optional(),
          currency: z.string().regex(/^[A-Za-z]{3}$/, 'must be a 3-letter currency code'),
          input_per_million: perMillion,
          output_per_million: perMillion,
          cached_input_per_million: perMillion.optional(),
          reasoning_per_million: perMillion.optional(),
          batch_discount_percent: z.number().int().min(0).max(100).optional(),
          /** per image, keyed `size:quality` (`1024x1024:hd`), `size` (any quality) or `*` */
          image_prices: z
            .record(z.string().regex(/^(\*|\d{2,5}x\d{2,5}(:[a-z]{1,16})?)$/), z.number().min(0).max(1_000))
            .optional(),
          audio_per_second: z.number().min(0).max(1_000).optional(),
          characters_per_million: perMillion.optional(),
          effective_from: z.iso.datetime({ offset: true }).optional(),
        }),
        response: { 201: priceDto },
      },
    },
    async (req, reply) =>
      reply
        .code(201)
        .send(toPriceDto(await priceBook.create(principalOf(req), req.body, auditContextOf(req)))),
  );

  r.delete(
    '/prices/:id',
    {
      schema: {
        tags: ['prices'],
        summary: 'Withdraw a price that has not taken effect yet',
        params: idParams,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await priceBook.remove(principalOf(req), req.params.id, auditContextOf(req));
      return reply.code(204).send(null);
    },
  );

  r.get(
    '/usage',
    {
      schema: {
        tags: ['usage'],
        summary: 'Requests, tokens, cost and latency by time bucket and dimension (CSV with format=csv)',
        querystring: usageQuery,
        response: { 200: usageResult },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const q = req.query;
      const to = q.to ? new Date(q.to) : new Date(Math.ceil(Date.now() / DAY) * DAY);
      const from = q.from ? new Date(q.from) : new Date(to.getTime() - 30 * DAY);
      if (from >= to)
        throw new AppError('validation_failed', 'from must be before to', undefined, { param: 'from' });
      const result = await queryUsage(db, {
        orgId: p.orgId,
        groupBy: q.group_by,
        granularity: q.granularity,
        from,
        to,
        projectId: q.project_id,
        keyId: q.key_id,
        userId: q.user_id,
        model: q.model,
      });
      if (q.format === 'csv') {
        reply.header('content-type', 'text/csv; charset=utf-8');
        reply.header(
          'content-disposition',
          `attachment; filename="usage-${from.toISOString().slice(0, 10)}.csv"`,
        );
        // the typed reply knows the JSON answer only; a text/csv string skips the serializer
        const csv: unknown = stringify(result.data, { header: true, escape_formulas: true });
        return reply.send(csv as UsageResult);
      }
      return {
        object: 'usage' as const,
        granularity: q.granularity,
        group_by: q.group_by,
        from: from.toISOString(),
        to: to.toISOString(),
        data: result.data,
        totals: result.totals,
      };
    },
  );

  r.get(
    '/bills',
    { schema: { tags: ['bills'], querystring: listQuery, response: { 200: pageOf(billDto) } } },
    async (req) => {
      const result = page(
        await bills.list(principalOf(req), req.query.limit, req.query.cursor),
        req.query.limit,
      );
      return { data: result.data.map((b) => toBillDto(b)), next_cursor: result.next_cursor };
    },
  );

  r.post(
    '/bills',
    {
      schema: {
        tags: ['bills'],
        summary: 'Build or refresh the draft statement of a month (YYYY-MM, UTC)',
        body: z.strictObject({
          period: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must look like YYYY-MM'),
        }),
        response: { 200: billDto },
      },
    },
    async (req) => {
      const bill = await bills.generate(principalOf(req), req.body.period, auditContextOf(req));
      return toBillDto(bill, (await bills.get(principalOf(req), bill.id)).lines);
    },
  );

  r.get(
    '/bills/:id',
    {
      schema: {
        tags: ['bills'],
        summary: 'A statement with its lines per project and model (CSV with format=csv)',
        params: idParams,
        querystring: z.strictObject({ format: z.enum(['json', 'csv']).default('json') }),
      },
    },
    async (req, reply) => {
      const { bill, lines } = await bills.get(principalOf(req), req.params.id);
      const dto = toBillDto(bill, lines);
      if (req.query.format === 'csv') {
        reply.header('content-type', 'text/csv; charset=utf-8');
        reply.header('content-disposition', `attachment; filename="bill-${bill.period}.csv"`);
        return stringify(
          dto.lines!.map((l) => ({ period: bill.period, status: bill.status, ...l })),
          { header: true, escape_formulas: true },
        );
      }
      return dto;
    },
  );

  r.post(
    '/bills/:id/finalize',
    {
      schema: {
        tags: ['bills'],
        summary: 'Freeze a statement of a month that has ended',
        params: idParams,
        body: z.strictObject({}).optional(),
        response: { 200: billDto },
      },
    },
    async (req) => {
      const bill = await bills.finalize(principalOf(req), req.params.id, auditContextOf(req));
      return toBillDto(bill, (await bills.get(principalOf(req), bill.id)).lines);
    },
  );
}
