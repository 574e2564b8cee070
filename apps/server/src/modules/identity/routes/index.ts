import type { FastifyInstance } from 'fastify';
import type { Services } from '../../../services.ts';
import { authRoutes } from './auth.ts';
import { memberRoutes } from './members.ts';
import { orgRoutes } from './orgs.ts';
import { projectRoutes } from './projects.ts';

export async function identityRoutes(app: FastifyInstance, opts: { services: Services }) {
  await app.register(authRoutes, opts);
  await app.register(orgRoutes, opts);
  await app.register(projectRoutes, opts);
  await app.register(memberRoutes, opts);
}
