import { createLocalDiskStorage } from './local-disk.ts';
import type { S3StorageOptions } from './s3.ts';
import type { FileStorage } from './types.ts';

export interface FileStorageConfig {
  /** the data dir: local files go to `<dataDir>/files` (a scratch dir for `memory://`) */
  dataDir: string;
  /** set: files go to this bucket instead */
  s3?: S3StorageOptions | undefined;
}

/** Local disk in the data dir unless an S3 bucket is configured. */
export async function createFileStorage(config: FileStorageConfig): Promise<FileStorage> {
  // the AWS SDK (~25 MB resident) loads only when a bucket is configured
  return config.s3
    ? (await import('./s3.ts')).createS3Storage(config.s3)
    : createLocalDiskStorage(config.dataDir);
}
