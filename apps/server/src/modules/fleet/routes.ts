import type { FastifyInstance } from 'fastify';
import { deploymentRoutes } from './deployment-routes.ts';
import type { Fleet } from './fleet.ts';
import { clusterRoutes } from './kubernetes/index.ts';
import { nodeRoutes } from './node-routes.ts';

/** The fleet's admin API: deployments and replicas (org resources), nodes, join tokens and Kubernetes clusters (platform). */
export async function fleetRoutes(app: FastifyInstance, opts: { fleet: Fleet }) {
  await app.register(deploymentRoutes, opts);
  await app.register(nodeRoutes, opts);
  await app.register(clusterRoutes, { clusters: opts.fleet.clustersSvc });
}
