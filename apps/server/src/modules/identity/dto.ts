import { z } from 'zod';
import type { invitations, memberships, orgs, projects, users } from './schema.ts';

/** Loose on purpose: internal addresses such as admin@localhost are valid here. */
export const emailSchema = z
  .string()
  .trim()
  .max(320)
  .regex(/^[^@\s]+@[^@\s]+$/, 'must be an email address');

export { roleSchema } from '@maas/contracts';

import { roleSchema } from '@maas/contracts';

export const orgDto = z.object({
  id: z.string(),
  name: z.string(),
  slug: z.string(),
  sso_required: z.boolean(),
  mfa_required_for_admins: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
});
export const projectDto = z.object({
  id: z.string(),
  org_id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
export const userDto = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string().nullable(),
  is_platform_admin: z.boolean(),
  disabled: z.boolean(),
  role: roleSchema.optional(),
  created_at: z.string(),
  updated_at: z.string(),
});
export const membershipDto = z.object({
  id: z.string(),
  org_id: z.string(),
  user_id: z.string(),
  email: z.string().optional(),
  role: roleSchema,
  created_at: z.string(),
  updated_at: z.string(),
});

export const toOrgDto = (o: typeof orgs.$inferSelect): z.infer<typeof orgDto> => ({
  id: o.id,
  name: o.name,
  slug: o.slug,
  sso_required: o.ssoRequired,
  mfa_required_for_admins: o.mfaRequiredForAdmins,
  created_at: o.createdAt.toISOString(),
  updated_at: o.updatedAt.toISOString(),
});

export const toProjectDto = (p: typeof projects.$inferSelect): z.infer<typeof projectDto> => ({
  id: p.id,
  org_id: p.orgId,
  name: p.name,
  description: p.description,
  created_at: p.createdAt.toISOString(),
  updated_at: p.updatedAt.toISOString(),
});

export const toUserDto = (
  u: typeof users.$inferSelect,
  role?: (typeof memberships.$inferSelect)['role'],
): z.infer<typeof userDto> => ({
  id: u.id,
  email: u.email,
  name: u.name,
  is_platform_admin: u.isPlatformAdmin,
  disabled: u.disabledAt !== null,
  ...(role ? { role } : {}),
  created_at: u.createdAt.toISOString(),
  updated_at: u.updatedAt.toISOString(),
});

export const toMembershipDto = (
  m: typeof memberships.$inferSelect,
  email?: string,
): z.infer<typeof membershipDto> => ({
  id: m.id,
  org_id: m.orgId,
  user_id: m.userId,
  ...(email ? { email } : {}),
  role: m.role,
  created_at: m.createdAt.toISOString(),
  updated_at: m.updatedAt.toISOString(),
});

export const invitationDto = z.object({
  id: z.string(),
  org_id: z.string(),
  org_name: z.string().optional(),
  email: z.string(),
  role: roleSchema,
  status: z.enum(['pending', 'accepted', 'declined', 'revoked']),
  mail_status: z
    .enum(['queued', 'sent', 'failed'])
    .nullable()
    .describe('the last mailing of the link; null: never mailed (mail not set up)'),
  mailed_at: z.string().nullable(),
  created_at: z.string(),
  expires_at: z.string(),
});

export const toInvitationDto = (
  i: typeof invitations.$inferSelect,
  orgName?: string,
): z.infer<typeof invitationDto> => ({
  id: i.id,
  org_id: i.orgId,
  ...(orgName ? { org_name: orgName } : {}),
  email: i.email,
  role: i.role,
  status: i.status,
  mail_status: i.mailStatus,
  mailed_at: i.mailedAt?.toISOString() ?? null,
  created_at: i.createdAt.toISOString(),
  expires_at: i.expiresAt.toISOString(),
});

export const sessionDto = z.object({
  id: z.string(),
  org_id: z.string(),
  created_at: z.string(),
  last_used_at: z.string(),
  expires_at: z.string(),
  ip: z.string().nullable(),
  user_agent: z.string().nullable(),
  current: z.boolean().describe('the session this request was made with'),
});
