import type { ApiItem, ApiResponse } from '@maas/contracts';

/**
 * Wire shapes of the admin API (/api/v1): aliases of the types generated from the server's own
 * /openapi.json (`npm run contracts:generate`), never hand-written copies.
 */
export type Role = 'owner' | 'admin' | 'operator' | 'viewer';
export const ROLES: Role[] = ['owner', 'admin', 'operator', 'viewer'];
export type Permission = 'read' | 'write' | 'manage_members' | 'delete_org';

export type Me = ApiResponse<'/api/v1/me'>;
export type Org = ApiResponse<'/api/v1/orgs/{id}'>;
export type Project = ApiResponse<'/api/v1/projects/{id}'>;
export type User = ApiItem<'/api/v1/users'>;
export type Membership = ApiItem<'/api/v1/memberships'>;

export type KeyScope = 'inference' | 'admin:read' | 'admin:write';
export const KEY_SCOPES: KeyScope[] = ['inference', 'admin:read', 'admin:write'];

export type ApiKey = ApiResponse<'/api/v1/keys/{id}'>;
export type IssuedKey = ApiResponse<'/api/v1/keys', 'post'>;

export type AuditEvent = ApiItem<'/api/v1/audit-events'>;
export type AuditVerification = ApiResponse<'/api/v1/audit-events/verify'>;

export type ProviderType = 'openai-compatible' | 'anthropic';
export const PROVIDER_TYPES: ProviderType[] = ['openai-compatible', 'anthropic'];

export type Provider = ApiResponse<'/api/v1/providers/{id}'>;
export type ProviderHealth = NonNullable<Provider['health']>;
export type ProbeResult = ApiResponse<'/api/v1/providers/{id}/test', 'post'>;
export type TargetState = ProviderHealth['targets'][number];

export type ModelType = 'chat' | 'completion' | 'embedding' | 'rerank' | 'image' | 'tts' | 'stt';
export const MODEL_TYPES: ModelType[] = ['chat', 'completion', 'embedding', 'rerank', 'image', 'tts', 'stt'];
export type ModelStatus = 'active' | 'deprecated' | 'retired';
export const MODEL_STATUSES: ModelStatus[] = ['active', 'deprecated', 'retired'];

export type Model = ApiResponse<'/api/v1/models/{id}'>;
export type ModelVersion = Model['versions'][number];
export type ModelTarget = ModelVersion['targets'][number];
export type Pricing = NonNullable<ModelVersion['pricing']>;

export type { UsageRow } from '@maas/contracts';

export type UsageResult = ApiResponse<'/api/v1/usage'>;
