import { AppError } from '../../http/app-error.ts';

const clip = (s: string) => s.slice(0, 100);

export const storeNotFound = (id: string) =>
  new AppError('not_found', `No vector store found with id '${clip(id)}'.`, undefined, {
    param: 'vector_store_id',
  });

export const storeFileNotFound = (storeId: string, fileId: string) =>
  new AppError(
    'not_found',
    `No file found with id '${clip(fileId)}' in vector store '${clip(storeId)}'.`,
    undefined,
    {
      param: 'file_id',
    },
  );

export const batchNotFound = (id: string) =>
  new AppError('not_found', `No file batch found with id '${clip(id)}'.`, undefined, { param: 'batch_id' });

export const badRequest = (message: string, param: string | null = null) =>
  new AppError('validation_failed', message, undefined, { param });
