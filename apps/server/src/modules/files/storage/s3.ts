import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  NoSuchKey,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { type ByteRange, type FileStorage, StoredObjectMissingError } from './types.ts';

export interface S3StorageOptions {
  bucket: string;
  /** an S3-compatible endpoint (MinIO, R2, …); absent: AWS */
  endpoint?: string | undefined;
  region?: string | undefined;
  accessKeyId?: string | undefined;
  secretAccessKey?: string | undefined;
  /** `http://host/bucket/key` rather than `http://bucket.host/key` (most self-hosted stores) */
  forcePathStyle?: boolean | undefined;
  /** prepended to every key (several deployments sharing a bucket) */
  prefix?: string | undefined;
}

/** 8 MiB parts, 4 in flight: an upload holds at most ~32 MiB in memory, whatever the file's size. */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 4;

/**
 * Files in an S3-compatible bucket: multipart uploads streamed through @aws-sdk/lib-storage, ranged
 * GETs streamed back. Credentials fall back to the SDK's default chain when not configured.
 */
export function createS3Storage(opts: S3StorageOptions): FileStorage {
  const client = new S3Client({
    region: opts.region ?? 'us-east-1',
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(opts.forcePathStyle !== undefined ? { forcePathStyle: opts.forcePathStyle } : {}),
    ...(opts.accessKeyId && opts.secretAccessKey
      ? { credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey } }
      : {}),
  });
  const Bucket = opts.bucket;
  const keyOf = (key: string) => `${opts.prefix ?? ''}${key}`;
  return {
    kind: 's3',
    async put(key, body, size) {
      let bytes = 0;
      const counted = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          bytes += chunk.length;
          done(null, chunk);
        },
      });
      const piped = pipeline(body, counted);
      const upload = new Upload({
        client,
        params: {
          Bucket,
          Key: keyOf(key),
          Body: counted,
          ContentType: 'application/octet-stream',
          ...(size !== undefined && size < PART_SIZE ? { ContentLength: size } : {}),
        },
        partSize: PART_SIZE,
        queueSize: QUEUE_SIZE,
        leavePartsOnError: false,
      });
      // a body that fails (too large, client gone) aborts the multipart upload, and the other way round
      piped.catch(() => void upload.abort().catch(() => {}));
      try {
        await upload.done();
      } catch (err) {
        counted.destroy();
        await piped.catch(() => {});
        // the body's own failure (too large, client gone) says more than the aborted upload
        throw body.errored ?? err;
      }
      await piped;
      return { bytes };
    },
    async get(key, range?: ByteRange) {
      try {
        const res = await client.send(
          new GetObjectCommand({
            Bucket,
            Key: keyOf(key),
            ...(range ? { Range: `bytes=${range.start}-${range.end ?? ''}` } : {}),
          }),
        );
        const body = res.Body;
        if (body instanceof Readable) return body;
        if (body && 'transformToWebStream' in body) {
          return Readable.fromWeb(body.transformToWebStream() as never);
        }
        throw new Error(`S3 GetObject for ${key} returned no body`);
      } catch (err) {
        if (isMissing(err)) throw new StoredObjectMissingError(key);
        throw err;
      }
    },
    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket, Key: keyOf(key) }));
    },
    async close() {
      client.destroy();
    },
  };
}

function isMissing(err: unknown): boolean {
  if (err instanceof NoSuchKey) return true;
  return (
    err instanceof S3ServiceException && (err.name === 'NotFound' || err.$metadata.httpStatusCode === 404)
  );
}
