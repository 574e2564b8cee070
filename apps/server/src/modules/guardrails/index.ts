export { createGuardrailBook, type GuardrailBook } from './book.ts';
export { createModerationClassifier } from './moderation.ts';
export type { RequestGuard } from './request-guard.ts';
export { guardrailRoutes } from './routes.ts';
export { createGuardrailService, type GuardrailService } from './service.ts';
