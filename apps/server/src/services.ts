import type { EmbeddedAgent } from '@maas/contracts/agent';
import { createOutboundPolicy } from '@maas/outbound';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { createSecretBox } from './crypto/secret-box.ts';
import type { Database } from './db/client.ts';
import type { Bus } from './events/bus.ts';
import { newId } from './ids.ts';
import { createAsyncInference } from './modules/async-inference/index.ts';
import { createAuditService } from './modules/audit/index.ts';
import { createBatchHolds, createBatchJobs, createBatchService } from './modules/batches/index.ts';
import { createFileStorage, createFilesService } from './modules/files/index.ts';
import { createFineTuning } from './modules/fine-tuning/index.ts';
import { createFleet } from './modules/fleet/index.ts';
import {
  adapters,
  createCacheMetrics,
  createCacheSettings,
  createGateway,
  createGatewayMetrics,
  createMemoryStore,
  createRedisStore,
  createResponseCache,
  createResponses,
  runInternal,
} from './modules/gateway/index.ts';
import {
  createGuardrailBook,
  createGuardrailService,
  createModerationClassifier,
} from './modules/guardrails/index.ts';
import { createIdentityService } from './modules/identity/index.ts';
import { createJobEngine } from './modules/jobs/index.ts';
import { createKeyService } from './modules/keys/index.ts';
import {
  createFileSearchPort,
  createKnowledge,
  createPgVectorIndex,
  createRagHook,
  loadLexical,
} from './modules/knowledge/index.ts';
import { createLimitService } from './modules/limits/index.ts';
import { createMeteringService, usageTotal } from './modules/metering/index.ts';
import { createMetrics, startTracing } from './modules/observability/index.ts';
import { createProviderService } from './modules/providers/index.ts';
import { createRegistryService, modelsUsingProvider } from './modules/registry/index.ts';
import { createWebhookService, parseRetrySchedule } from './modules/webhooks/index.ts';

export interface CoreDeps {
  config: Config;
  database: Database;
  bus: Bus;
  log: Logger;
  /** the node agent to run inside the server (MAAS_LOCAL_AGENT): `maas serve` gives it, the server never imports it */
  embeddedAgent?: EmbeddedAgent | undefined;
}

/** Builds every service once, passing dependencies explicitly. */
export async function createServices(deps: CoreDeps) {
  const { config, database, bus, log } = deps;
  const db = database.db;
  const secrets = createSecretBox(config.secretKey);
  const metrics = createMetrics();
  // OpenTelemetry spans when OTEL_TRACES_EXPORTER asks for them; nothing loaded otherwise
  const tracing = await startTracing(process.env, log);
  const audit = createAuditService({ db });
  // durable background work (batches, async inference, webhooks): queues register on it, it starts last
  const jobs = createJobEngine({
    db,
    log,
    bus,
    registry: metrics.registry,
    leaseMs: config.jobLeaseMs,
    // at SIGTERM running handlers get as long as in-flight requests to end, then their leases go back
    stopGraceMs: config.shutdownTimeoutMs,
    // one process per embedded database (the data dir is locked): a lease held at start is a dead process's
    reclaimOnStart: database.driver === 'pglite',
  });
  // one policy for every request made on a tenant's behalf (providers, probes, webhooks, downloads)
  const outbound = createOutboundPolicy({ allow: config.outboundAllow });
  if (config.port !== 0) outbound.addSelf(config.host, config.port);
  // signed Standard Webhooks to each org's endpoints, delivered by the job engine
  const webhooks = createWebhookService({
    db,
    audit,
    secrets,
    log,
    jobs,
    outbound,
    ...(config.webhookRetrySchedule
      ? { retryScheduleMs: parseRetrySchedule(config.webhookRetrySchedule) }
      : {}),
  });
  webhooks.start();
  const keys = createKeyService({ db, audit, bus, log });
  await keys.start();
  // limit counters shared by every replica when Redis is configured; fail fast rather than queue when it is down
  // ioredis loads only when Redis is configured: an embedded server never needs it
  const limitsRedis = config.redisUrl
    ? new (await import('ioredis')).Redis(config.redisUrl, {
        maxRetriesPerRequest: 1,
        enableOfflineQueue: false,
        commandTimeout: 2_000,
        lazyConnect: true,
      })
    : undefined;
  limitsRedis?.on('error', (err) => log.warn({ err: err.message }, 'limits redis error'));
  await limitsRedis?.connect();
  const identity = createIdentityService({
    db,
    audit,
    bus,
    config,
    log,
    secrets,
    outbound,
    redis: limitsRedis,
    jobs,
  });
  const limits = createLimitService({
    db,
    audit,
    bus,
    log,
    outbound,
    events: webhooks,
    redis: limitsRedis,
    ...(config.limitShareRequests !== undefined ? { shareRequests: config.limitShareRequests } : {}),
    usedIn: async (policy, fromMs, toMs) => {
      const total = await usageTotal(db, {
        orgId: policy.orgId,
        projectId: policy.scope === 'project' ? policy.scopeId : undefined,
        keyId: policy.scope === 'key' ? policy.scopeId : undefined,
        userId: policy.scope === 'user' ? policy.scopeId : undefined,
        model: policy.model ?? undefined,
        fromMs,
        toMs,
      });
      return { tokens: total.tokens, cost: total.costNanos / 1e9 };
    },
  });
  await limits.start();
  const metering = createMeteringService({ db, bus, audit, config, log });
  await metering.start();
  const providers = createProviderService({
    db,
    audit,
    bus,
    secrets,
    log,
    adapters,
    outbound,
    inUseBy: modelsUsingProvider,
    probeIntervalMs: config.probeIntervalMs,
  });
  await providers.start();
  const registry = createRegistryService({
    db,
    audit,
    bus,
    log,
    providers,
    endpointsOf: providers.cache.endpointsOf,
  });
  // a deployment's replicas come and go as its provider's endpoints: only its models compile again
  providers.onRuntimesChanged((id) => registry.cache.providerChanged(id));
  await registry.start();
  // the response cache (in Redis when REDIS_URL is set, shared by replicas) and guardrails, both read in process
  const ownsModel = (orgId: string, id: string) => {
    const m = registry.cache.lookup(orgId, id);
    return m !== undefined && m.id === id && m.orgId === orgId && m.sharedWith === null;
  };
  const cacheSettings = createCacheSettings({ db, bus, log, audit, ownsModel });
  await cacheSettings.start();
  const cacheStore = limitsRedis
    ? createRedisStore(limitsRedis, log)
    : createMemoryStore(config.responseCacheMaxBytes);
  const responseCache = createResponseCache({
    settings: cacheSettings,
    store: cacheStore,
    metrics: createCacheMetrics(metrics.registry, cacheStore.bytes),
  });
  const guardrailBook = createGuardrailBook({
    db,
    bus,
    log,
    audit,
    // moderation models are called through the gateway itself, as the calling key
    classify: createModerationClassifier((input) =>
      runInternal(gateway.context, { ...input, endpoint: 'chat.completions' }),
    ),
  });
  await guardrailBook.start();
  const guardrails = createGuardrailService({
    db,
    audit,
    book: guardrailBook,
    ownsModel,
    ownsKey: (orgId, id) => keys.principalOf(id)?.orgId === orgId,
  });
  const gateway = createGateway({
    registry,
    providers,
    usage: metering.writer,
    prices: metering.priceBook,
    limits,
    log,
    maxAttempts: config.gatewayMaxAttempts,
    breaker: { failureThreshold: config.breakerFailures, cooldownMs: config.breakerCooldownMs },
    metrics: createGatewayMetrics(metrics.registry, () => metering.writer.pending),
    tracing,
    cache: responseCache,
    guardrails: guardrailBook,
  });
  const fleet = createFleet({
    db,
    audit,
    bus,
    log,
    registry,
    providers,
    secrets,
    nodeEnv: config.env,
    dataDir: config.dataDir,
    outbound,
    metricsRegistry: metrics.registry,
    embeddedAgent: deps.embeddedAgent,
  });
  await fleet.start();
  const files = createFilesService({
    db,
    log,
    storage: await createFileStorage({ dataDir: config.dataDir, s3: config.files.s3 }),
    maxBytes: config.files.maxBytes,
    orgQuotaBytes: config.files.orgQuotaBytes,
    sweepIntervalMs: config.files.sweepIntervalMs,
  });
  files.start();
  // a running batch holds its estimate of quotas and budgets (read on every replica)
  const batchHolds = createBatchHolds({ db, book: limits.holds, bus, log: log.child({ module: 'batches' }) });
  await batchHolds.start();
  // batches run on the job engine; their lines go through the gateway path on a budget of their own
  const batchJobs = createBatchJobs({
    holds: batchHolds,
    currentKey: keys.principalOf,
    db,
    jobs,
    gw: gateway.context,
    files,
    log: log.child({ module: 'batches' }),
    concurrency: config.batches.concurrency,
    perOrgConcurrency: config.batches.perOrgConcurrency,
    pollMs: config.batches.pollMs,
    leaseMs: config.batches.leaseMs,
    emit: (orgId, type, data, key) => webhooks.emit(orgId, type, data, undefined, { idempotencyKey: key }),
  });
  const batches = createBatchService({
    db,
    files,
    windowS: config.batches.windowS,
    enqueueStep: batchJobs.enqueueStep,
    stoppedHolding: (id) => {
      batchHolds.drop(id);
      return batchHolds.changed();
    },
  });
  // fine-tuning runs on the job engine, placed on nodes whose agent offers the trainer (the local one too)
  const fineTuning = createFineTuning({
    db,
    jobs,
    files,
    log: log.child({ module: 'fine-tuning' }),
    dataDir: config.dataDir,
    localNode: fleet.localAgent
      ? { ensure: () => fleet.agents.ensureLocalNode(), agent: fleet.localAgent }
      : null,
    registry,
    secrets,
    // the parity check asks the fine-tuned model through the gateway's own path, as the job's key
    chat: (key, body) =>
      runInternal(gateway.context, { key, endpoint: 'chat.completions', body, requestId: newId('req') }),
    currentKey: keys.principalOf,
    publishDeadlineMs: config.fineTuningPublishDeadlineMs,
  });
  fineTuning.start();
  // async requests run as low-priority jobs with their own concurrency, apart from live traffic
  const asyncInference = createAsyncInference({
    jobs,
    db,
    gateway: gateway.context,
    outbound,
    log,
    events: webhooks,
    files,
    currentKey: keys.principalOf,
    ...config.asyncInference,
  });
  // /v1/responses: state kept per project (chaining across providers and replicas), background on the job engine
  const responses = createResponses({
    db,
    jobs,
    gw: gateway.context,
    log,
    retentionDays: config.responsesRetentionDays,
    currentKey: keys.principalOf,
  });
  responses.start();
  // knowledge bases: one ingestion job per document; embeddings run as the key or person that added it
  const knowledge = createKnowledge({
    db,
    jobs,
    gw: gateway.context,
    files,
    models: registry.cache,
    log: log.child({ module: 'knowledge' }),
    currentKey: keys.principalOf,
    personMayWrite: (scope, userId) =>
      identity.memberHolds(scope.orgId, userId, scope.projectId, 'knowledge:write'),
    lexical: await loadLexical(),
    vectors: createPgVectorIndex(),
    concurrency: 2,
  });
  // chat with a `knowledge` field retrieves its sources first
  gateway.context.beforeRequest = createRagHook(knowledge);
  responses.useFileSearch(createFileSearchPort(knowledge));
  knowledge.start(config.knowledge.sweepIntervalMs);
  jobs.start();
  return {
    config,
    outbound,
    database,
    bus,
    log,
    secrets,
    metrics,
    audit,
    webhooks,
    identity,
    keys,
    limits,
    metering,
    providers,
    registry,
    gateway,
    guardrails,
    cacheSettings,
    fleet,
    jobs,
    asyncInference,
    responses,
    files,
    batches,
    knowledge,
    fineTuning: fineTuning.service,
    fineTuningDispatch: fineTuning.dispatch,
    /**
     * Starts the local node (MAAS_LOCAL_AGENT): its agent and its trainer. startServer calls it once
     * it serves: what they probe at start (`python3 -c "import torch"`, the runtimes, the GPUs) takes
     * seconds of CPU in child processes, which would hold up a start that competes with them for it.
     * Neither is waited for.
     */
    startLocalNode() {
      fleet.startLocalAgent();
      fineTuning.startLocalTrainer();
    },
    /** Flushes buffers and stops background work; the database is closed by the caller. */
    async stop() {
      // running jobs are aborted and their leases given back first, while what they use still works
      await jobs.stop();
      await batchHolds.stop();
      await fineTuning.stop();
      responses.stop();
      knowledge.stop();
      await fleet.stop();
      await files.stop();
      await keys.stop();
      await limits.stop();
      limitsRedis?.disconnect();
      await gateway.stop();
      await guardrailBook.stop();
      await cacheSettings.stop();
      await registry.stop();
      await providers.stop();
      await metering.stop();
      await webhooks.stop();
      await tracing?.shutdown();
    },
  };
}

export type Services = Awaited<ReturnType<typeof createServices>>;
