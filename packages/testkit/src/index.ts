export { type ApiClient, type ApiResponse, createApiClient } from './api-client.ts';
export { createScratchDatabase, testDatabaseUrl, testRedisUrl } from './database.ts';
export { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from './server-harness.ts';
