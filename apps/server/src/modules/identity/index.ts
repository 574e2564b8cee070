export { identityRoutes } from './routes/index.ts';
export { createIdentityService, type IdentityService } from './service.ts';
