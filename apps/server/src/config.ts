import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
// the allow-list parser alone: `maas serve` loads this module before the rest (see early.ts)
import { type AllowEntry, parseAllowList } from '@maas/outbound/allow-list';
import { z } from 'zod';
import { ensurePrivateDir } from './private-dir.ts';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** `MAAS_OUTBOUND_ALLOW`: hosts and ranges tenants' upstreams and webhooks may reach though private */
const allowList = z.string().transform((text, ctx): AllowEntry[] => {
  try {
    return parseAllowList(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  MAAS_HOST: z.string().min(1).default('127.0.0.1'),
  MAAS_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  MAAS_DATA_DIR: z.string().min(1).default('./.maas'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// URL')
    .optional(),
  MAAS_SECRET_KEY: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters (32 bytes)')
    .optional(),
  MAAS_ADMIN_EMAIL: z
    .string()
    .regex(/^[^@\s]+@[^@\s]+$/, 'must be an email address')
    .default('admin@localhost'),
  MAAS_ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').max(1024).optional(),
  MAAS_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MAAS_ACCESS_TOKEN_TTL_S: z.coerce.number().int().min(30).max(86_400).default(900),
  MAAS_REFRESH_TOKEN_TTL_S: z.coerce
    .number()
    .int()
    .min(300)
    .default(30 * 86_400),
  MAAS_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(10 * 1024 * 1024),
  MAAS_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  MAAS_TRUST_PROXY: bool.default(false),
  MAAS_USAGE_SPOOL_DIR: z.string().min(1).optional(),
  MAAS_USAGE_RETENTION_DAYS: z.coerce.number().int().min(1).default(400),
  MAAS_RESPONSES_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  MAAS_PROBE_INTERVAL_MS: z.coerce.number().int().min(0).default(30_000),
  MAAS_JOB_LEASE_MS: z.coerce.number().int().min(500).max(600_000).default(30_000),
  /** how long a trained adapter may take to be served on its base deployment and pass the parity check */
  MAAS_FT_PUBLISH_DEADLINE_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(300_000),
  MAAS_ASYNC_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(4),
  MAAS_ASYNC_ORG_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(2),
  MAAS_BREAKER_FAILURES: z.coerce.number().int().min(1).default(5),
  MAAS_BREAKER_COOLDOWN_MS: z.coerce.number().int().min(0).default(10_000),
  MAAS_GATEWAY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
  /** bytes of answers the in-process response cache keeps (without REDIS_URL) */
  MAAS_RESPONSE_CACHE_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(64 * 1024 * 1024),
  MAAS_LIMIT_SHARE_REQUESTS: z.coerce.number().int().min(0).max(1000).optional(),
  MAAS_WEBHOOK_RETRY_SCHEDULE: z
    .string()
    .regex(/^\s*\d+(ms|s|m|h)(\s*,\s*\d+(ms|s|m|h))*\s*$/, 'must list durations like 5s,5m,30m,2h')
    .optional(),
  MAAS_LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(1000).default(5),
  MAAS_LOGIN_MAX_FAILURES_PER_ADDRESS: z.coerce.number().int().min(1).max(100_000).default(30),
  MAAS_LOGIN_LOCKOUT_S: z.coerce.number().int().min(1).max(86_400).default(30),
  MAAS_PASSWORD_HASH_CONCURRENCY: z.coerce.number().int().min(1).max(64).optional(),
  MAAS_PASSWORD_HASH_QUEUE: z.coerce.number().int().min(0).max(10_000).default(64),
  MAAS_OUTBOUND_ALLOW: allowList.optional(),
  MAAS_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').max(512).optional(),
  MAAS_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  MAAS_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  MAAS_BATCH_CONCURRENCY: z.coerce.number().int().min(0).max(1024).default(8),
  MAAS_BATCH_ORG_CONCURRENCY: z.coerce.number().int().min(1).max(1024).optional(),
  MAAS_BATCH_WINDOW_S: z.coerce.number().int().min(1).max(86_400).default(86_400),
  MAAS_BATCH_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(500),
  MAAS_BATCH_LEASE_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
  MAAS_FILES_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(512 * 1024 * 1024),
  MAAS_FILES_ORG_QUOTA_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .default(10 * 1024 ** 3),
  MAAS_FILES_SWEEP_INTERVAL_MS: z.coerce.number().int().min(0).default(60_000),
  MAAS_KNOWLEDGE_SWEEP_INTERVAL_MS: z.coerce.number().int().min(0).default(60_000),
  MAAS_FILES_S3_BUCKET: z.string().min(3).max(63).optional(),
  MAAS_FILES_S3_ENDPOINT: z.url().optional(),
  MAAS_FILES_S3_REGION: z.string().min(1).optional(),
  MAAS_FILES_S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  MAAS_FILES_S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  MAAS_FILES_S3_FORCE_PATH_STYLE: bool.optional(),
  MAAS_FILES_S3_PREFIX: z.string().max(512).optional(),
  MAAS_MIGRATE: z.enum(['auto', 'wait']).default('auto'),
  MAAS_MIGRATE_TIMEOUT_S: z.coerce.number().int().min(1).max(86_400).default(300),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  secretKey: Buffer;
  adminEmail: string;
  adminPassword: string | undefined;
  logLevel: Env['MAAS_LOG_LEVEL'];
  accessTokenTtlS: number;
  refreshTokenTtlS: number;
  bodyLimitBytes: number;
  shutdownTimeoutMs: number;
  trustProxy: boolean;
  /** usage events wait here while the database is unreachable (default: <data dir>/spool) */
  usageSpoolDir: string | undefined;
  /** usage events older than this many days are dropped */
  usageRetentionDays: number;
  /** /v1/responses: stored responses are kept this many days, then swept */
  responsesRetentionDays: number;
  /** gateway: active provider health probes every this many ms (0: off) */
  probeIntervalMs: number;
  /** job engine: a claimed job is taken back this long after its worker's last heartbeat */
  jobLeaseMs: number;
  /** fine-tuning: a trained adapter's serving and parity check must pass within this */
  fineTuningPublishDeadlineMs: number;
  /** /api/v1/async: requests at once per process (a budget apart from live traffic) and per org across replicas */
  asyncInference: { concurrency: number; perOrgConcurrency: number };
  /** gateway: a target's breaker opens after this many failures in a row … */
  breakerFailures: number;
  /** … and lets a half-open probe through after this many ms */
  breakerCooldownMs: number;
  /** gateway: attempts per model (first try included) before falling back */
  gatewayMaxAttempts: number;
  responseCacheMaxBytes: number;
  /** Redis limits: requests a replica may admit from one local share of the counters (0: none; default 32) */
  limitShareRequests: number | undefined;
  /** webhooks: waits after each failed attempt, the last repeating (`5s,5m,30m,2h,5h,10h` when unset) */
  webhookRetrySchedule: string | undefined;
  /** logins: failures per account, then per client address, before a lockout; first lockout in seconds (doubles) */
  login: { maxFailures: number; maxFailuresPerAddress: number; lockoutS: number };
  /** argon2 work at once (default: half the CPUs, at least 2) and how many may wait before 503 */
  passwordHash: { concurrency: number | undefined; maxQueue: number };
  /** private hosts and ranges outbound requests may reach (maas itself and metadata services never) */
  outboundAllow: AllowEntry[];
  /** /metrics answers only with `Authorization: Bearer <token>` (else only on the metrics listener) */
  metricsToken: string | undefined;
  /** a listener of its own for /metrics (the main port then has none) */
  metricsListen: { host: string; port: number } | undefined;
  /** /v1/batches: lines at once per process (0: this process runs no batches) and per org; the '24h' window in seconds (shorter in tests) */
  batches: {
    concurrency: number;
    perOrgConcurrency: number;
    windowS: number;
    pollMs: number;
    leaseMs: number;
  };
  /** knowledge bases: how often expired vector stores are swept (0: never) */
  knowledge: { sweepIntervalMs: number };
  /** /v1/files: size limit per file, storage quota per org, sweeper period; an S3 bucket instead of the data dir */
  files: {
    maxBytes: number;
    orgQuotaBytes: number;
    sweepIntervalMs: number;
    s3:
      | {
          bucket: string;
          endpoint: string | undefined;
          region: string | undefined;
          accessKeyId: string | undefined;
          secretAccessKey: string | undefined;
          forcePathStyle: boolean | undefined;
          prefix: string | undefined;
        }
      | undefined;
  };
  /** at start: migrate under the advisory lock (auto), or wait up to timeoutMs for `maas migrate` to have (wait) */
  migrate: { mode: 'auto' | 'wait'; timeoutMs: number };
}

export class ConfigError extends Error {}

/** Parses the environment; throws ConfigError with one line naming the variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const raw = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    throw new ConfigError(`invalid ${name}: ${issue.message}`);
  }
  const env = parsed.data;
  const dataDir = env.MAAS_DATA_DIR.startsWith('memory://') ? env.MAAS_DATA_DIR : resolve(env.MAAS_DATA_DIR);
  if (env.NODE_ENV === 'production' && !env.MAAS_SECRET_KEY) {
    throw new ConfigError('missing MAAS_SECRET_KEY: required when NODE_ENV=production (64 hex characters)');
  }
  if (!env.MAAS_SECRET_KEY && dataDir.startsWith('memory://')) {
    throw new ConfigError('missing MAAS_SECRET_KEY: required with an in-memory data directory');
  }
  const secretKey = env.MAAS_SECRET_KEY
    ? Buffer.from(env.MAAS_SECRET_KEY, 'hex')
    : embeddedSecretKey(dataDir);
  return {
    env: env.NODE_ENV,
    host: env.MAAS_HOST,
    port: env.MAAS_PORT,
    dataDir,
    databaseUrl: env.DATABASE_URL,
    redisUrl: env.REDIS_URL,
    secretKey,
    adminEmail: env.MAAS_ADMIN_EMAIL,
    adminPassword: env.MAAS_ADMIN_PASSWORD,
    logLevel: env.MAAS_LOG_LEVEL,
    accessTokenTtlS: env.MAAS_ACCESS_TOKEN_TTL_S,
    refreshTokenTtlS: env.MAAS_REFRESH_TOKEN_TTL_S,
    bodyLimitBytes: env.MAAS_BODY_LIMIT_BYTES,
    shutdownTimeoutMs: env.MAAS_SHUTDOWN_TIMEOUT_MS,
    trustProxy: env.MAAS_TRUST_PROXY,
    usageSpoolDir: env.MAAS_USAGE_SPOOL_DIR ? resolve(env.MAAS_USAGE_SPOOL_DIR) : undefined,
    usageRetentionDays: env.MAAS_USAGE_RETENTION_DAYS,
    responsesRetentionDays: env.MAAS_RESPONSES_RETENTION_DAYS,
    probeIntervalMs: env.MAAS_PROBE_INTERVAL_MS,
    jobLeaseMs: env.MAAS_JOB_LEASE_MS,
    fineTuningPublishDeadlineMs: env.MAAS_FT_PUBLISH_DEADLINE_MS,
    asyncInference: {
      concurrency: env.MAAS_ASYNC_CONCURRENCY,
      perOrgConcurrency: env.MAAS_ASYNC_ORG_CONCURRENCY,
    },
    breakerFailures: env.MAAS_BREAKER_FAILURES,
    breakerCooldownMs: env.MAAS_BREAKER_COOLDOWN_MS,
    gatewayMaxAttempts: env.MAAS_GATEWAY_MAX_ATTEMPTS,
    responseCacheMaxBytes: env.MAAS_RESPONSE_CACHE_MAX_BYTES,
    limitShareRequests: env.MAAS_LIMIT_SHARE_REQUESTS,
    webhookRetrySchedule: env.MAAS_WEBHOOK_RETRY_SCHEDULE,
    login: {
      maxFailures: env.MAAS_LOGIN_MAX_FAILURES,
      maxFailuresPerAddress: env.MAAS_LOGIN_MAX_FAILURES_PER_ADDRESS,
      lockoutS: env.MAAS_LOGIN_LOCKOUT_S,
    },
    passwordHash: { concurrency: env.MAAS_PASSWORD_HASH_CONCURRENCY, maxQueue: env.MAAS_PASSWORD_HASH_QUEUE },
    outboundAllow: env.MAAS_OUTBOUND_ALLOW ?? [],
    metricsToken: env.MAAS_METRICS_TOKEN,
    metricsListen:
      env.MAAS_METRICS_PORT === undefined
        ? undefined
        : { host: env.MAAS_METRICS_HOST, port: env.MAAS_METRICS_PORT },
    batches: {
      concurrency: env.MAAS_BATCH_CONCURRENCY,
      perOrgConcurrency: env.MAAS_BATCH_ORG_CONCURRENCY ?? env.MAAS_BATCH_CONCURRENCY,
      windowS: env.MAAS_BATCH_WINDOW_S,
      pollMs: env.MAAS_BATCH_POLL_MS,
      leaseMs: env.MAAS_BATCH_LEASE_MS,
    },
    knowledge: { sweepIntervalMs: env.MAAS_KNOWLEDGE_SWEEP_INTERVAL_MS },
    files: {
      maxBytes: env.MAAS_FILES_MAX_BYTES,
      orgQuotaBytes: env.MAAS_FILES_ORG_QUOTA_BYTES,
      sweepIntervalMs: env.MAAS_FILES_SWEEP_INTERVAL_MS,
      s3: env.MAAS_FILES_S3_BUCKET
        ? {
            bucket: env.MAAS_FILES_S3_BUCKET,
            endpoint: env.MAAS_FILES_S3_ENDPOINT,
            region: env.MAAS_FILES_S3_REGION,
            accessKeyId: env.MAAS_FILES_S3_ACCESS_KEY_ID,
            secretAccessKey: env.MAAS_FILES_S3_SECRET_ACCESS_KEY,
            forcePathStyle: env.MAAS_FILES_S3_FORCE_PATH_STYLE,
            prefix: env.MAAS_FILES_S3_PREFIX,
          }
        : undefined,
    },
    migrate: { mode: env.MAAS_MIGRATE, timeoutMs: env.MAAS_MIGRATE_TIMEOUT_S * 1000 },
  };
}

/** In embedded mode the secret key is generated once and kept (mode 0600) in the data directory. */
function embeddedSecretKey(dataDir: string): Buffer {
  const file = join(dataDir, 'secret.key');
  if (existsSync(file)) {
    ensurePrivateDir(dataDir);
    chmodSync(file, 0o600);
    const hex = readFileSync(file, 'utf8').trim();
    if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new ConfigError(`invalid ${file}: expected 64 hex characters`);
    return Buffer.from(hex, 'hex');
  }
  ensurePrivateDir(dataDir);
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  return key;
}
