import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Db } from '../../db/client.ts';
import type { KeyPrincipal } from '../../http/principal.ts';
import type { GatewayContext } from '../gateway/index.ts';
import type { JobEngine } from '../jobs/index.ts';
import type { Lexical } from './lexical.ts';
import type { VectorIndex } from './vector-index.ts';

export interface Scope {
  orgId: string;
  projectId: string;
}

/** What knowledge needs of /v1/files (services.files satisfies it). */
export interface KnowledgeFiles {
  /** throws the 404 when absent, expired or another project's */
  get(scope: Scope, id: string): Promise<{ id: string; filename: string; bytes: number }>;
  open(scope: Scope, id: string): Promise<{ body: Readable }>;
}

/** What knowledge needs of the registry: the org's models as the gateway sees them. */
export interface KnowledgeModels {
  lookup(orgId: string, name: string): ModelView | undefined;
  visibleTo(orgId: string): ModelView[];
}
export interface ModelView {
  name: string;
  type: string;
  status: string;
  accessProjects: ReadonlySet<string> | null;
}

export interface KnowledgeDeps {
  db: Db;
  jobs: JobEngine;
  gw: GatewayContext;
  files: KnowledgeFiles;
  models: KnowledgeModels;
  log: Logger;
  /** a key as it is now: null once revoked or expired */
  currentKey: (keyId: string) => KeyPrincipal | null;
  /** whether a person may (still) write knowledge bases in the project: their ingestion runs on */
  personMayWrite: (scope: Scope, userId: string) => Promise<boolean>;
  /** the lexical half (BM25 and fusion); null: dense search only */
  lexical: Lexical | null;
  vectors: VectorIndex;
  /** documents ingested at once in this process (0: none here) */
  concurrency: number;
  pollMs?: number;
  leaseMs?: number;
  now?: () => number;
}
