export type { Behavior, FaultRule } from './faults.ts';
export {
  type FakeUpstream,
  type FakeUpstreamOptions,
  type RecordedRequest,
  startFakeUpstream,
} from './server.ts';
