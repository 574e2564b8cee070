export type { Behavior, FaultRule } from './faults.ts';
export { tinyPng, tinyWav, wavSeconds } from './media-files.ts';
export {
  type FakeUpstream,
  type FakeUpstreamOptions,
  type RecordedRequest,
  startFakeUpstream,
} from './server.ts';
