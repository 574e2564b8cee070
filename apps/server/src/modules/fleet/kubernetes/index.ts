export { clusterRoutes } from './cluster-routes.ts';
export { type ClusterService, createClusterService } from './cluster-service.ts';
export { createKubernetesPlacement, type KubernetesPlacement } from './reconcile.ts';
