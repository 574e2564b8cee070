export { type ProviderDto, providerDto, toProviderDto } from './dto.ts';
export type { HealthBook, ProbeResult } from './health.ts';
export { describeError } from './probe.ts';
export type { ProviderCache, ProviderRuntime } from './provider-cache.ts';
export { providerRoutes } from './routes.ts';
export { PROVIDER_TYPES, type ProviderType } from './schema.ts';
export {
  createProviderService,
  type DeploymentEndpoint,
  type ManagedOption,
  PROVIDERS_CHANGED,
  type ProviderService,
  type ProviderServiceDeps,
} from './service.ts';
