import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { KeyPrincipal } from '../../http/principal.ts';
import type { Knowledge } from './knowledge.ts';

export const tags = ['openai'];
export const security = [{ bearer: [] }];
export const storeParams = z.object({ vector_store_id: z.string().max(200) });

export interface KnowledgeRoutesOptions {
  knowledge: Knowledge;
  /** adds /v1's hooks (request id, loop refusal, API key) to this plugin's routes */
  authenticate: (app: FastifyInstance) => void;
}

export const keyOf = (req: FastifyRequest) => req.principal as KeyPrincipal;
export const scopeOf = (req: FastifyRequest) => {
  const key = keyOf(req);
  return { orgId: key.orgId, projectId: key.projectId };
};
