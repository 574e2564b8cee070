export { type BatchHolds, createBatchHolds } from './batch-holds.ts';
export { type BatchJobs, type BatchJobsDeps, createBatchJobs } from './batch-jobs.ts';
export { type BatchDto, toBatchDto } from './dto.ts';
export type { BatchFiles, EmitEvent } from './files-port.ts';
export { batchRoutes } from './routes.ts';
export { batches, batchLines } from './schema.ts';
export { type BatchService, createBatchService } from './service.ts';
