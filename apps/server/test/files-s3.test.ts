import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect } from 'vitest';
import { filesSuite } from './support/files-suite.ts';
import { type S3TestServer, startS3Server } from './support/s3-server.ts';

/** The same /v1/files suite with the bytes in an S3-compatible bucket (s3rver on loopback). */
let s3: S3TestServer;

beforeAll(async () => {
  s3 = await startS3Server();
});

afterAll(async () => {
  await s3?.close();
});

filesSuite('/v1/files on S3 (s3rver)', {
  env: () => ({ ...s3.env, MAAS_FILES_S3_PREFIX: 'tenant-files/' }),
  async after(ts) {
    // every object in the bucket belongs to a file row: nothing deleted, expired or refused is left
    const client = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    const listed = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket }));
    const keys = (listed.Contents ?? []).map((o) => o.Key).sort();
    const rows = await ts.server.services.database.db.query.files.findMany();
    expect(keys).toEqual(rows.map((r) => `tenant-files/${r.id}`).sort());
    expect(keys.length).toBeGreaterThan(0);
    client.destroy();
  },
});
