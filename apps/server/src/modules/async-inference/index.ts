export { ASYNC_QUEUE, type AsyncJobDto, CALLBACK_QUEUE, toAsyncJobDto } from './job-dto.ts';
export { asyncRoutes } from './routes.ts';
export {
  type AsyncInference,
  type AsyncInferenceDeps,
  createAsyncInference,
  type JobEvents,
} from './service.ts';
