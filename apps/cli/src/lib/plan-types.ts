import type { ApiItem } from '@maas/contracts';
import type { FleetDeployment } from '../commands/fleet/shapes.ts';
import type { ApiClient } from './api-client.ts';

export interface FieldChange {
  field: string;
  from: unknown;
  to: unknown;
}

/** Execution state shared by the steps of one apply: ids of what earlier steps created. */
export interface ApplyContext {
  api: ApiClient;
  /** provider name → id, including providers created by this apply */
  providerIds: Map<string, string>;
}

export interface Step {
  action: 'create' | 'update' | 'delete' | 'unchanged';
  kind: 'project' | 'provider' | 'model' | 'deployment' | 'limit';
  name: string;
  changes: FieldChange[];
  run?: (ctx: ApplyContext) => Promise<void>;
}

/** What the server holds now, as the admin API returns it. */
export interface State {
  orgId: string;
  providers: ApiItem<'/api/v1/providers'>[];
  models: ApiItem<'/api/v1/models'>[];
  limits: ApiItem<'/api/v1/limits'>[];
  keys: ApiItem<'/api/v1/keys'>[];
  projects: ApiItem<'/api/v1/projects'>[];
  deployments: FleetDeployment[];
}

/** JSON with sorted keys and no undefined values: equal values give equal strings. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .filter((k) => v[k] !== undefined)
            .map((k) => [k, v[k]]),
        )
      : v,
  );
}

export const same = (a: unknown, b: unknown) => canonical(a ?? null) === canonical(b ?? null);

/** Appends a change when `to` is given (not undefined) and differs from `from`. */
export function compare(changes: FieldChange[], field: string, from: unknown, to: unknown): boolean {
  if (to === undefined || same(from, to)) return false;
  changes.push({ field, from: from ?? null, to });
  return true;
}

/** The fields of a limit policy that a file may set. */
export const LIMIT_FIELDS = [
  'rpm',
  'rpd',
  'tpm',
  'tpd',
  'max_concurrent',
  'token_quota',
  'quota_period',
  'budget',
  'budget_period',
  'soft_threshold',
  'webhook_url',
  'description',
] as const;
