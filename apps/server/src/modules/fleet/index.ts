export { agentRoutes } from './agent-routes.ts';
export { createFleet, type Fleet, type FleetDeps } from './fleet.ts';
export { fleetRoutes } from './routes.ts';
