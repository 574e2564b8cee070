export { type CounterChild, type HistogramChild, HotCounter, HotHistogram } from './hot-metrics.ts';
export { createMetrics, type Metrics, recordHttpMetrics } from './metrics.ts';
export { listenForMetrics } from './metrics-access.ts';
export { observabilityRoutes } from './routes.ts';
export { type AttemptSpan, type RequestTrace, startTracing, type Tracing } from './tracing.ts';
