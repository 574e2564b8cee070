/** Wire shapes of the admin API (/api/v1), as documented in /openapi.json. */
export type Role = 'owner' | 'admin' | 'operator' | 'viewer';
export const ROLES: Role[] = ['owner', 'admin', 'operator', 'viewer'];
export type Permission = 'read' | 'write' | 'manage_members' | 'delete_org';

export interface Me {
  kind: 'user' | 'key';
  org: { id: string; name: string; slug: string };
  role: Role | null;
  user?: { id: string; email: string; name: string | null; is_platform_admin: boolean };
  memberships: { org_id: string; org_name: string; role: Role }[];
}

export interface Org {
  id: string;
  name: string;
  slug: string;
  /** members sign in only through an identity provider */
  sso_required?: boolean;
  /** owners and admins must use a second factor */
  mfa_required_for_admins?: boolean;
  created_at: string;
  updated_at: string;
}

export interface Project {
  id: string;
  org_id: string;
  name: string;
  description: string | null;
  created_at: string;
  updated_at: string;
}

export interface User {
  id: string;
  email: string;
  name: string | null;
  is_platform_admin: boolean;
  disabled: boolean;
  role?: Role;
  created_at: string;
  updated_at: string;
}

export interface Membership {
  id: string;
  org_id: string;
  user_id: string;
  email?: string;
  role: Role;
  created_at: string;
  updated_at: string;
}

export type KeyScope = 'inference' | 'admin:read' | 'admin:write';
export const KEY_SCOPES: KeyScope[] = ['inference', 'admin:read', 'admin:write'];

export interface ApiKey {
  id: string;
  org_id: string;
  project_id: string;
  name: string;
  prefix: string;
  scopes: KeyScope[];
  models: string[] | null;
  metadata: Record<string, unknown>;
  status: 'active' | 'expired' | 'revoked';
  expires_at: string | null;
  previous_expires_at: string | null;
  revoked_at: string | null;
  created_by: string | null;
  created_at: string;
  updated_at: string;
}

export interface IssuedKey extends ApiKey {
  key: string;
}

export interface AuditEvent {
  id: string;
  org_id: string | null;
  actor_type: string;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  before: unknown;
  after: unknown;
  created_at: string;
  prev_hash: string;
  hash: string;
}

export interface AuditVerification {
  ok: boolean;
  checked: number;
  first_broken_id: string | null;
}

export type ProviderType = 'openai-compatible' | 'anthropic';
export const PROVIDER_TYPES: ProviderType[] = ['openai-compatible', 'anthropic'];

export interface ProbeResult {
  ok: boolean;
  at: string;
  latency_ms: number;
  status_code: number | null;
  error: string | null;
  models?: string[];
}

export interface TargetState {
  upstream_model: string;
  state: 'closed' | 'open' | 'half_open';
  consecutive_failures: number;
  error_rate: number;
  outstanding: number;
  opened_at: string | null;
}

export interface ProviderHealth {
  status: 'healthy' | 'degraded' | 'unhealthy' | 'unknown';
  last_probe: ProbeResult | null;
  error_rate: number;
  requests: number;
  window_s: number;
  targets: TargetState[];
}

export interface Provider {
  id: string;
  org_id: string;
  name: string;
  type: ProviderType;
  base_url: string;
  has_api_key: boolean;
  header_names: string[];
  timeout_ms: number;
  max_connections: number;
  created_at: string;
  updated_at: string;
  health?: ProviderHealth;
}

export type ModelType = 'chat' | 'completion' | 'embedding' | 'rerank' | 'image' | 'tts' | 'stt';
export const MODEL_TYPES: ModelType[] = ['chat', 'completion', 'embedding', 'rerank', 'image', 'tts', 'stt'];
export type ModelStatus = 'active' | 'deprecated' | 'retired';
export const MODEL_STATUSES: ModelStatus[] = ['active', 'deprecated', 'retired'];

export interface Pricing {
  currency: string;
  input_per_million: number;
  output_per_million: number;
  cached_input_per_million?: number;
  reasoning_per_million?: number;
}

export interface ModelTarget {
  provider_id: string;
  upstream_model: string;
  weight: number;
  priority: number;
}

export interface ModelVersion {
  id: string;
  model_id: string;
  version: string;
  targets: ModelTarget[];
  traffic_weight: number;
  pricing: Pricing | null;
  created_at: string;
}

export interface Model {
  id: string;
  org_id: string;
  name: string;
  type: ModelType;
  aliases: string[];
  description: string | null;
  context_length: number | null;
  default_params: Record<string, unknown>;
  status: ModelStatus;
  access: { projects?: string[] };
  fallbacks: { model: string; on?: string[] }[];
  traffic: Record<string, number>;
  versions: ModelVersion[];
  created_at: string;
  updated_at: string;
}

export type { UsageRow } from '@maas/contracts';

import type { UsageRow } from '@maas/contracts';

export interface UsageResult {
  data: UsageRow[];
  totals: UsageRow[];
}
