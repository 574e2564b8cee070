import type { FastifyInstance } from 'fastify';
import type { Services } from '../../../services.ts';
import { invitationLinkRoutes } from './invitation-links.ts';
import { mailSettingsRoutes } from './mail-settings.ts';
import { profileRoutes } from './profile.ts';
import { registrationRoutes } from './registration.ts';

/** Mail, invitation links, self-registration and the profile's own keys. */
export async function selfServiceRoutes(app: FastifyInstance, opts: { services: Services }) {
  await app.register(mailSettingsRoutes, opts);
  await app.register(invitationLinkRoutes, opts);
  await app.register(registrationRoutes, opts);
  await app.register(profileRoutes, opts);
}
