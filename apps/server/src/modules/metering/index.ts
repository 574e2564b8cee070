export {
  batchCostNanos,
  costNanos,
  type MediaUsage,
  mediaCostNanos,
  type PriceBook,
  type PriceRow,
  type TokenUsage,
} from './price-book.ts';
export { DEFAULT_CURRENCY, recordUsage, type UsageRecord } from './record-usage.ts';
export { meteringRoutes } from './routes.ts';
export { USAGE_OUTCOMES, usageEvents } from './schema.ts';
export { createMeteringService, type MeteringService } from './service.ts';
export { usageTotal } from './usage-query.ts';
export {
  createUsageWriter,
  type UsageEvent,
  type UsageWriter,
  type UsageWriterDeps,
} from './usage-writer.ts';
