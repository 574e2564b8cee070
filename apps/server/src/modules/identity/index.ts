export { createIdentityService, type IdentityService } from './service.ts';
export { identityRoutes } from './routes/index.ts';
