export { type FallbackClass, type ModelDto, modelDto, toModelDto } from './dto.ts';
export type { PublishedModel, RegistryInternal } from './internal.ts';
export {
  type CompiledModel,
  type CompiledVersion,
  type EndpointLookup,
  type ModelCache,
  type RouteTarget,
  targetKey,
} from './model-cache.ts';
export { registryRoutes } from './routes.ts';
export {
  createRegistryService,
  REGISTRY_CHANGED,
  type RegistryService,
  type RegistryServiceDeps,
} from './service.ts';
export { modelsUsingProvider } from './store.ts';
