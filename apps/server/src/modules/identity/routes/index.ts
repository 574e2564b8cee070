import type { FastifyInstance } from 'fastify';
import type { Services } from '../../../services.ts';
import { authRoutes } from './auth.ts';
import { invitationRoutes } from './invitations.ts';
import { memberRoutes } from './members.ts';
import { orgRoutes } from './orgs.ts';
import { projectRoutes } from './projects.ts';
import { sessionRoutes } from './sessions.ts';

export async function identityRoutes(app: FastifyInstance, opts: { services: Services }) {
  await app.register(authRoutes, opts);
  await app.register(sessionRoutes, opts);
  await app.register(orgRoutes, opts);
  await app.register(projectRoutes, opts);
  await app.register(memberRoutes, opts);
  await app.register(invitationRoutes, opts);
}
