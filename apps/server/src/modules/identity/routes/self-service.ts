import type { FastifyInstance } from 'fastify';
import { type InvitationLinkRouteDeps, invitationLinkRoutes } from './invitation-links.ts';
import { type MailSettingsRouteDeps, mailSettingsRoutes } from './mail-settings.ts';
import { type ProfileRouteDeps, profileRoutes } from './profile.ts';
import { type RegistrationRouteDeps, registrationRoutes } from './registration.ts';

export type SelfServiceRouteDeps = MailSettingsRouteDeps &
  InvitationLinkRouteDeps &
  RegistrationRouteDeps &
  ProfileRouteDeps;

/** Mail, invitation links, self-registration and the profile's own keys. */
export async function selfServiceRoutes(app: FastifyInstance, opts: SelfServiceRouteDeps) {
  await app.register(mailSettingsRoutes, opts);
  await app.register(invitationLinkRoutes, opts);
  await app.register(registrationRoutes, opts);
  await app.register(profileRoutes, opts);
}
