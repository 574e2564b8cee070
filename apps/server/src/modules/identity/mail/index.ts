import type { OutboundPolicy } from '@maas/outbound';
import type { Logger } from 'pino';
import type { SecretBox } from '../../../crypto/secret-box.ts';
import type { Db } from '../../../db/client.ts';
import type { AuditService } from '../../audit/index.ts';
import type { JobEngine } from '../../jobs/index.ts';
import { createInvitationLinks } from '../invitation-links.ts';
import type { InvitationService } from '../invitation-service.ts';
import type { PasswordHasher } from '../passwords.ts';
import { createRegistrationService } from '../registration.ts';
import { createInvitationMail } from './invitation-mail.ts';
import { createMailSettingsService } from './mail-settings.ts';
import { createMailer } from './mailer.ts';

interface Deps {
  db: Db;
  audit: AuditService;
  log: Logger;
  secrets: SecretBox;
  outbound: OutboundPolicy;
  jobs: JobEngine;
  secretKey: Buffer;
}

/** Mail for identity: the platform's SMTP settings and the mailing of invitation links (queue registered here). */
export function createIdentityMail(deps: Deps) {
  const mailer = createMailer(deps);
  const invitationMail = createInvitationMail({ ...deps, mailer });
  invitationMail.start();
  return {
    mailer,
    invitationMail,
    /** the services that build on invitations: settings, links, self-registration */
    selfService(invitations: InvitationService, hasher: PasswordHasher) {
      return {
        mailSettings: createMailSettingsService({ ...deps, mailer }),
        invitationLinks: createInvitationLinks({ ...deps, hasher, invitations, mail: invitationMail }),
        registration: createRegistrationService({ ...deps, mailer, invitations }),
      };
    },
  };
}
