export { type ApiKeyDto, apiKeyDto, toApiKeyDto } from './key-dto.ts';
export { KEYS_CHANGED } from './key-sync.ts';
export { keyRoutes } from './routes.ts';
export { API_KEY_PREFIX, hashSecret } from './secret.ts';
export {
  type CreateKeyInput,
  createKeyService,
  type KeyService,
  type KeyServiceDeps,
  type RequireProject,
  type UpdateKeyInput,
} from './service.ts';
