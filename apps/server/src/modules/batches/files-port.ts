import type { Readable } from 'node:stream';

/** What batches need of /v1/files (services.files satisfies it). */
export interface FileScope {
  orgId: string;
  projectId: string;
}

export interface BatchFiles {
  /** throws the 404 when absent, expired or another project's */
  get(scope: FileScope, id: string): Promise<{ id: string; purpose: string }>;
  open(scope: FileScope, id: string): Promise<{ body: Readable }>;
  create(input: {
    orgId: string;
    projectId: string;
    purpose: string;
    filename: string;
    body: Readable;
    expiresAfterSeconds?: number;
  }): Promise<{ id: string }>;
}

/** Emits a webhook event once per idempotency key (services.webhooks.emit behind it). */
export type EmitEvent = (
  orgId: string,
  type: string,
  data: object,
  idempotencyKey: string,
) => Promise<unknown>;
