export { type AttemptOutcome, type DeliveryTarget, deliverOnce } from './deliver.ts';
export type { EmitOptions } from './deliveries.ts';
export { KNOWN_EVENTS, matchesEvent, TEST_EVENT } from './event-types.ts';
export { DEFAULT_RETRY_SCHEDULE_MS, parseRetrySchedule } from './retry-schedule.ts';
export { webhookRoutes } from './routes.ts';
export {
  createWebhookService,
  WEBHOOK_QUEUE,
  type WebhookJobs,
  type WebhookService,
  type WebhookServiceDeps,
} from './service.ts';
export { newSigningSecret, signMessage } from './signing.ts';
