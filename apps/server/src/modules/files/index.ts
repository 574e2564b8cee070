export { fileNotFound, fileTooLarge, storageQuotaExceeded } from './file-errors.ts';
export { type FileObject, toFileObject } from './file-object.ts';
export { FILE_PURPOSES, type FilePurpose, UPLOAD_PURPOSES, type UploadPurpose } from './purposes.ts';
export { readUpload, type UploadOptions } from './read-upload.ts';
export { fileRoutes } from './routes.ts';
export { type FileRow, type FileStatus, fileStorageUsage, files } from './schema.ts';
export {
  type CreateFileInput,
  createFilesService,
  type FileScope,
  type FilesService,
  type FilesServiceDeps,
  type ListFilesQuery,
  type PendingUpload,
} from './service.ts';
export { createFileStorage, type FileStorageConfig } from './storage/index.ts';
export { type ByteRange, type FileStorage, StoredObjectMissingError } from './storage/types.ts';
