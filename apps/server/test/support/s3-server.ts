import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// s3rver ships no types: the little used here is declared below
// @ts-expect-error no declaration file
import S3rver from 's3rver';

export interface S3TestServer {
  endpoint: string;
  bucket: string;
  /** MAAS_FILES_S3_* for a test server using this bucket */
  env: Record<string, string>;
  close(): Promise<void>;
}

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}

/**
 * A real S3-compatible server (s3rver, from npm) on a loopback port, storing in a scratch
 * directory, with one bucket. It speaks the S3 REST API the AWS SDK uses, multipart uploads and
 * ranged GETs included.
 */
export async function startS3Server(bucket = 'maas-files'): Promise<S3TestServer> {
  const directory = mkdtempSync(join(tmpdir(), 'maas-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  }) as S3rverInstance;
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    env: {
      MAAS_FILES_S3_BUCKET: bucket,
      MAAS_FILES_S3_ENDPOINT: endpoint,
      MAAS_FILES_S3_REGION: 'us-east-1',
      MAAS_FILES_S3_ACCESS_KEY_ID: 'S3RVER',
      MAAS_FILES_S3_SECRET_ACCESS_KEY: 'S3RVER',
      MAAS_FILES_S3_FORCE_PATH_STYLE: 'true',
    },
    async close() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
