export { type BatchDto, toBatchDto } from './dto.ts';
export type { BatchFiles, EmitEvent } from './files-port.ts';
export { batchRoutes } from './routes.ts';
export { type BatchRunner, type BatchRunnerDeps, createBatchRunner } from './runner.ts';
export { batches, batchLines } from './schema.ts';
export { type BatchService, createBatchService } from './service.ts';
