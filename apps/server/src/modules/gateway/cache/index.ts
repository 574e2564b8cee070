export { createCacheMetrics } from './cache-metrics.ts';
export { createMemoryStore, createRedisStore } from './cache-store.ts';
export { finishAnswer } from './finish-answer.ts';
export { type CachePlan, createResponseCache, type ResponseCache } from './response-cache.ts';
export { createCacheSettings } from './settings.ts';
export { cacheSettingsRoutes } from './settings-routes.ts';
