import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { AppError } from './http/app-error.ts';
import { registerAdminAuth } from './http/authenticate.ts';
import { registerErrorMapper, sendError } from './http/error-mapper.ts';
import { lazyChildLogger } from './http/lazy-child-logger.ts';
import { requestIdFrom } from './http/request-context.ts';
import { registerRouteAccess } from './http/route-access.ts';
import { newId } from './ids.ts';
import { asyncRoutes } from './modules/async-inference/index.ts';
import { auditRoutes } from './modules/audit/index.ts';
import { batchRoutes } from './modules/batches/index.ts';
import { consoleRoutes } from './modules/console/index.ts';
import { fileRoutes, readUpload } from './modules/files/index.ts';
import { fineTuningRoutes, trainingAgentRoutes } from './modules/fine-tuning/index.ts';
import { agentRoutes, fleetRoutes } from './modules/fleet/index.ts';
import { addKeyAuth, cacheSettingsRoutes, gatewayRoutes } from './modules/gateway/index.ts';
import { guardrailRoutes } from './modules/guardrails/index.ts';
import { identityRoutes } from './modules/identity/index.ts';
import { keyRoutes } from './modules/keys/index.ts';
import { adminKnowledgeRoutes, knowledgeRoutes } from './modules/knowledge/index.ts';
import { limitRoutes } from './modules/limits/index.ts';
import { meteringRoutes } from './modules/metering/index.ts';
import { observabilityRoutes, recordHttpMetrics } from './modules/observability/index.ts';
import { providerRoutes } from './modules/providers/index.ts';
import { registryRoutes } from './modules/registry/index.ts';
import { webhookRoutes } from './modules/webhooks/index.ts';
import type { Services } from './services.ts';
import { releaseStartMemory } from './start-memory.ts';

export interface BuildAppOptions {
  services: Services;
  logger: Logger;
  isMigrated?: () => boolean;
}

type CompilersFactory = NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>;

/**
 * Routes validate and serialize with zod. Given when the instance is built (rather than set on it
 * afterwards), Fastify does not load the JSON Schema compilers it would otherwise make by default
 * (Ajv, fast-json-stringify: ~0.15 s of CPU at start) only to replace them. Fastify types these
 * factories as those compilers'; the zod ones take the same arguments.
 */
const zodCompilers = {
  buildValidator: () => validatorCompiler,
  buildSerializer: () => serializerCompiler,
} as unknown as CompilersFactory;

/** Registers every module and the one error mapper. Never listens. */
export async function buildApp({ services, logger, isMigrated = () => true }: BuildAppOptions) {
  const { config } = services;
  const app = Fastify({
    loggerInstance: logger as unknown as FastifyBaseLogger,
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    requestIdHeader: false,
    genReqId: (req) => requestIdFrom(req.headers['x-request-id'], () => newId('req')),
    childLoggerFactory: lazyChildLogger,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: 200 },
    schemaController: { compilersFactory: zodCompilers },
    frameworkErrors: (err, req, reply) => {
      const message = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'path parameter too long' : 'malformed URL';
      return sendError(req, reply, new AppError('validation_failed', message));
    },
  }).withTypeProvider<ZodTypeProvider>();

  // Hooks on every request are callback-style: an async hook costs a promise and a tick per request.
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    done();
  });
  registerErrorMapper(app);
  recordHttpMetrics(app, services.metrics);
  // once it listens, its start is over
  app.addHook('onListen', (done) => {
    setImmediate(() =>
      releaseStartMemory().catch((err) => app.log.warn({ err }, 'start memory not released')),
    );
    done();
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'maas admin API', version: '1.0.0', description: 'Model-as-a-Service control plane' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'JWT access token or sk-maas- API key' },
        },
      },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
    // named (recursive) schemas land in components.schemas, so every $ref resolves
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true }, config: { public: true } }, async () => app.swagger());

  app.decorateRequest('principal', null);
  await app.register(observabilityRoutes, {
    database: services.database,
    metrics: services.metrics,
    isMigrated,
    metricsAccess: { token: config.metricsToken, separate: config.metricsListen !== undefined },
  });
  await app.register(
    async (api) => {
      registerAdminAuth(api, {
        verifyAccessToken: (token) => services.identity.verifyAccessToken(token),
        verifyApiKey: (secret) => services.keys.verify(secret),
      });
      registerRouteAccess(api, {
        keyGrant: services.identity.keyGrants((orgId, id) => services.keys.get(orgId, id)),
        projectOfResource: async (orgId, _resource, id) => (await services.keys.get(orgId, id)).projectId,
        projectInOrg: (orgId, id) => services.identity.projectInOrg(orgId, id),
      });
      await api.register(identityRoutes, {
        identity: services.identity,
        keys: services.keys,
        db: services.database.db,
        refreshTokenTtlS: config.refreshTokenTtlS,
      });
      await api.register(keyRoutes, { keys: services.keys, identity: services.identity });
      await api.register(limitRoutes, {
        limits: services.limits,
        identity: services.identity,
        keys: services.keys,
      });
      await api.register(auditRoutes, { audit: services.audit });
      await api.register(meteringRoutes, { metering: services.metering, db: services.database.db });
      await api.register(providerRoutes, {
        providers: services.providers,
        targetStates: (id) => services.gateway.targetStates(id),
      });
      await api.register(registryRoutes, { registry: services.registry });
      await api.register(cacheSettingsRoutes, { settings: services.cacheSettings });
      await api.register(guardrailRoutes, { guardrails: services.guardrails });
      await api.register(webhookRoutes, { webhooks: services.webhooks });
      await api.register(fleetRoutes, { fleet: services.fleet });
      await api.register(adminKnowledgeRoutes, {
        knowledge: services.knowledge,
        audit: services.audit,
        projectInOrg: (orgId, id) => services.identity.projectInOrg(orgId, id),
        upload: (req, scope) => readUpload(req, services.files, { scope, purpose: 'assistants' }),
        maxBytes: config.files.maxBytes,
      });
      await api.register(agentRoutes, { agents: services.fleet.agents });
      await api.register(trainingAgentRoutes, {
        dispatch: services.fineTuningDispatch,
        authenticate: (token) => services.fleet.agents.authenticate(token),
      });
    },
    { prefix: '/api/v1' },
  );
  await app.register(gatewayRoutes, {
    prefix: '/v1',
    gw: services.gateway.context,
    verifyKey: services.keys.verify,
    responses: services.responses,
  });
  await app.register(asyncRoutes, {
    prefix: '/api/v1/async',
    asyncInference: services.asyncInference,
    authenticate: (api) => addKeyAuth(api, services.keys.verify),
  });
  await app.register(fileRoutes, {
    prefix: '/v1',
    files: services.files,
    maxBytes: config.files.maxBytes,
    authenticate: (v1) => addKeyAuth(v1, services.keys.verify),
  });
  await app.register(batchRoutes, {
    prefix: '/v1',
    batches: services.batches,
    authenticate: (v1) => addKeyAuth(v1, services.keys.verify),
  });
  await app.register(fineTuningRoutes, {
    prefix: '/v1',
    fineTuning: services.fineTuning,
    authenticate: (v1) => addKeyAuth(v1, services.keys.verify),
  });
  await app.register(knowledgeRoutes, {
    prefix: '/v1',
    knowledge: services.knowledge,
    authenticate: (v1) => addKeyAuth(v1, services.keys.verify),
  });
  await app.register(consoleRoutes);
  return app as unknown as FastifyInstance;
}
