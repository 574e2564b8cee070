import { z } from 'zod';
import { unsafePatternReason } from './deny-list.ts';
import { PII_ENTITIES } from './pii.ts';
import {
  ATTACHMENT_TARGETS,
  GUARDRAIL_ACTIONS,
  GUARDRAIL_STAGES,
  type guardrailAttachments,
  type guardrails,
} from './schema.ts';

export type GuardrailRow = typeof guardrails.$inferSelect;
export type AttachmentRow = typeof guardrailAttachments.$inferSelect;

const piiConfig = z.strictObject({ entities: z.array(z.enum(PII_ENTITIES)).min(1).optional() });
const denyListConfig = z
  .strictObject({
    keywords: z.array(z.string().min(1).max(200)).max(500).default([]),
    patterns: z.array(z.string().min(1).max(500)).max(100).default([]),
    case_sensitive: z.boolean().default(false),
  })
  .superRefine((c, ctx) => {
    if (c.keywords.length + c.patterns.length === 0)
      ctx.addIssue({ code: 'custom', message: 'a deny list needs keywords or patterns' });
    c.patterns.forEach((p, i) => {
      const why = unsafePatternReason(p);
      if (why) ctx.addIssue({ code: 'custom', path: ['patterns', i], message: `pattern ${i} ${why}` });
    });
  });
const moderationConfig = z.strictObject({ model: z.string().min(1).max(200) });

const common = {
  name: z.string().trim().min(1).max(100),
  stages: z.array(z.enum(GUARDRAIL_STAGES)).min(1).default(['input', 'output']),
  fail_open: z.boolean().default(false),
  enabled: z.boolean().default(true),
};

export const createGuardrailBody = z.discriminatedUnion('kind', [
  z.strictObject({
    ...common,
    kind: z.literal('pii'),
    action: z.enum(GUARDRAIL_ACTIONS),
    config: piiConfig.default({}),
  }),
  z.strictObject({
    ...common,
    kind: z.literal('deny_list'),
    action: z.enum(GUARDRAIL_ACTIONS),
    config: denyListConfig,
  }),
  z.strictObject({
    ...common,
    kind: z.literal('moderation'),
    // a verdict has nothing to mask
    action: z.enum(['block', 'log']),
    config: moderationConfig,
  }),
]);
export type CreateGuardrailBody = z.infer<typeof createGuardrailBody>;

export const updateGuardrailBody = z.strictObject({
  name: common.name.optional(),
  action: z.enum(GUARDRAIL_ACTIONS).optional(),
  stages: z.array(z.enum(GUARDRAIL_STAGES)).min(1).optional(),
  config: z.record(z.string(), z.unknown()).optional(),
  fail_open: z.boolean().optional(),
  enabled: z.boolean().optional(),
});
export type UpdateGuardrailBody = z.infer<typeof updateGuardrailBody>;

/** Re-validates a whole guardrail after a partial change (config and action as its kind allows). */
export function validateMerged(row: GuardrailRow, patch: UpdateGuardrailBody) {
  return createGuardrailBody.safeParse({
    kind: row.kind,
    name: patch.name ?? row.name,
    action: patch.action ?? row.action,
    stages: patch.stages ?? row.stages,
    config: patch.config ?? row.config,
    fail_open: patch.fail_open ?? row.failOpen,
    enabled: patch.enabled ?? row.enabled,
  });
}

export const attachBody = z.strictObject({
  target_type: z.enum(ATTACHMENT_TARGETS),
  target_id: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'not a valid id'),
});

export const attachmentParams = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'not a valid id'),
  target_id: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'not a valid id'),
});

const attachmentDto = z.object({ target_type: z.enum(ATTACHMENT_TARGETS), target_id: z.string() });

export const guardrailDto = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(['pii', 'deny_list', 'moderation']),
  action: z.enum(GUARDRAIL_ACTIONS),
  stages: z.array(z.enum(GUARDRAIL_STAGES)),
  config: z.record(z.string(), z.unknown()),
  fail_open: z.boolean(),
  enabled: z.boolean(),
  attachments: z.array(attachmentDto),
  created_at: z.string(),
  updated_at: z.string(),
});

export function toGuardrailDto(row: GuardrailRow, links: AttachmentRow[]): z.infer<typeof guardrailDto> {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    action: row.action,
    stages: row.stages,
    config: row.config,
    fail_open: row.failOpen,
    enabled: row.enabled,
    attachments: links
      .filter((l) => l.guardrailId === row.id)
      .map((l) => ({ target_type: l.targetType, target_id: l.targetId })),
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}
