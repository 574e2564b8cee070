import { AppError } from '../../http/app-error.ts';
import type { LimitPeriod } from './schema.ts';

/** The changeable fields of a policy, as the service takes them (undefined: unchanged). */
export interface LimitFields {
  rpm?: number | null | undefined;
  rpd?: number | null | undefined;
  tpm?: number | null | undefined;
  tpd?: number | null | undefined;
  maxConcurrent?: number | null | undefined;
  tokenQuota?: number | null | undefined;
  quotaPeriod?: LimitPeriod | null | undefined;
  budget?: number | null | undefined;
  budgetPeriod?: LimitPeriod | null | undefined;
  softThreshold?: number | null | undefined;
  webhookUrl?: string | null | undefined;
  description?: string | null | undefined;
}

const ENFORCED = ['rpm', 'rpd', 'tpm', 'tpd', 'maxConcurrent', 'tokenQuota', 'budget'] as const;

export function columnsOf(input: LimitFields) {
  return {
    rpm: input.rpm,
    rpd: input.rpd,
    tpm: input.tpm,
    tpd: input.tpd,
    maxConcurrent: input.maxConcurrent,
    tokenQuota: input.tokenQuota,
    quotaPeriod: input.quotaPeriod,
    budget: input.budget,
    budgetPeriod: input.budgetPeriod,
    softThreshold: input.softThreshold,
    webhookUrl: input.webhookUrl,
    description: input.description,
  };
}

export function definedOf<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function assertEnforcesSomething(fields: LimitFields): void {
  if (ENFORCED.every((k) => fields[k] === undefined || fields[k] === null)) {
    throw new AppError(
      'unprocessable',
      'a limit policy needs at least one of rpm, rpd, tpm, tpd, max_concurrent, token_quota or budget',
    );
  }
}
