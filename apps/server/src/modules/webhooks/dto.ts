import { z } from 'zod';
import { EVENT_PATTERN } from './event-types.ts';
import { DELIVERY_STATUSES, type webhookDeliveries, type webhookEndpoints } from './schema.ts';

export type EndpointRow = typeof webhookEndpoints.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;

/** what a URL or a description may hold: no control characters (a database refuses NUL) */
const noControls = (v: string) => {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 32 || c === 127) return false;
  }
  return true;
};
const noCredentials = (v: string) => {
  try {
    const u = new URL(v);
    return !u.username && !u.password;
  } catch {
    return true; // not a URL: z.url says so
  }
};
const url = z
  .url({ protocol: /^https?$/ })
  .max(2000)
  .refine(noControls, 'control characters are not allowed')
  .refine(noCredentials, 'credentials in the URL are not allowed')
  .describe('where events are POSTed; must pass the outbound-request policy');
const description = z.string().trim().max(500).refine(noControls, 'control characters are not allowed');
const events = z
  .array(z.string().max(100).regex(EVENT_PATTERN, 'not an event type pattern like batch.completed or job.*'))
  .min(1)
  .max(50)
  .describe('event types to send; `*` matches any run of characters (`job.*`, `*` for all)');

export const createEndpointBody = z.strictObject({
  url,
  description: description.optional(),
  events: events.default(['*']),
  enabled: z.boolean().default(true),
});
export type CreateEndpointBody = z.infer<typeof createEndpointBody>;

export const updateEndpointBody = z.strictObject({
  url: url.optional(),
  description: description.nullable().optional(),
  events: events.optional(),
  enabled: z.boolean().optional(),
});
export type UpdateEndpointBody = z.infer<typeof updateEndpointBody>;

export const rotateSecretBody = z.strictObject({
  grace_period_s: z
    .number()
    .int()
    .min(0)
    .max(7 * 86_400)
    .default(86_400)
    .describe('how long the previous secret keeps signing alongside the new one (default 24 h)'),
});

export const deliveryQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
  status: z.enum(DELIVERY_STATUSES).optional(),
  event_type: z.string().max(100).optional(),
});

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const endpointDto = z.object({
  id: z.string(),
  url: z.string(),
  description: z.string().nullable(),
  events: z.array(z.string()),
  enabled: z.boolean(),
  disabled_reason: z.string().nullable(),
  previous_secret_expires_at: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
export const endpointWithSecretDto = endpointDto.extend({
  secret: z.string().describe('the signing secret (whsec_…): shown once, store it now'),
});

export function toEndpointDto(row: EndpointRow, now = new Date()): z.infer<typeof endpointDto> {
  const graceOpen = row.previousSecretExpiresAt && row.previousSecretExpiresAt > now;
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: row.events,
    enabled: row.enabled,
    disabled_reason: row.disabledReason,
    previous_secret_expires_at: graceOpen ? iso(row.previousSecretExpiresAt) : null,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export const deliveryDto = z.object({
  id: z.string().describe('also the webhook-id header, the same on every attempt'),
  endpoint_id: z.string(),
  event_id: z.string(),
  event_type: z.string(),
  status: z.enum(DELIVERY_STATUSES),
  attempts: z.number(),
  response_status: z.number().nullable(),
  response_snippet: z.string().nullable(),
  last_error: z.string().nullable(),
  last_attempt_at: z.string().nullable(),
  next_attempt_at: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

export function toDeliveryDto(row: DeliveryRow): z.infer<typeof deliveryDto> {
  return {
    id: row.id,
    endpoint_id: row.endpointId,
    event_id: row.eventId,
    event_type: row.eventType,
    status: row.status,
    attempts: row.attempts,
    response_status: row.responseStatus,
    response_snippet: row.responseSnippet,
    last_error: row.lastError,
    last_attempt_at: iso(row.lastAttemptAt),
    next_attempt_at: row.status === 'pending' ? iso(row.nextAttemptAt) : null,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}
