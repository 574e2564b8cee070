export { type ApiClient, type ApiResponse, createApiClient } from './api-client.ts';
export { createScratchDatabase, testDatabaseUrl, testRedisUrl } from './database.ts';
export {
  type Behavior,
  type FakeUpstream,
  type FakeUpstreamOptions,
  type FaultRule,
  type RecordedRequest,
  startFakeUpstream,
  tinyPng,
  tinyWav,
  wavSeconds,
} from './fake-upstream/index.ts';
export {
  type ModelFileServer,
  startModelFileServer,
  tinyLlamaGguf,
  writeGguf,
  writeTinyLlama,
} from './gguf/index.ts';
export {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  startTestServer,
  TEST_OUTBOUND_ALLOW,
  type TestServer,
} from './server-harness.ts';
export { respawnServer, type SpawnedServer, type SpawnOptions, spawnServer } from './spawn-server.ts';
export { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';
