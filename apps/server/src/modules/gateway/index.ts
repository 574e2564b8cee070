export { NATIVE_MESSAGES } from './adapters/anthropic/native.ts';
export { adapters } from './adapters/index.ts';
export type { Adapter, Endpoint, ProviderConnection, StreamTranslator } from './adapters/types.ts';
export {
  cacheSettingsRoutes,
  createCacheMetrics,
  createCacheSettings,
  createMemoryStore,
  createRedisStore,
  createResponseCache,
} from './cache/index.ts';
export type { GatewayContext } from './context.ts';
export { createGatewayMetrics, type GatewayMetrics } from './gateway-metrics.ts';
export { addKeyAuth } from './key-auth.ts';
export { createResponses, type Responses } from './responses/index.ts';
export { gatewayRoutes } from './routes.ts';
export {
  type InternalRequest,
  type InternalResponse,
  revokedKeyAnswer,
  runInternal,
} from './run-internal.ts';
export { createGateway, type Gateway, type GatewayDeps, type TargetState } from './service.ts';
