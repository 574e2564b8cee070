export { BACKGROUND_QUEUE } from './background.ts';
export { responsesRoutes } from './responses-routes.ts';
export { createResponses, type Responses, type ResponsesDeps } from './service.ts';
