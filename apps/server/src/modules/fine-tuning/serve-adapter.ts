import type { UserPrincipal } from '../../http/principal.ts';
import type { FineTuningJobRow } from './schema.ts';

/** What serving an adapter needs of the fleet (services.fleet.deploymentsSvc satisfies it). */
export interface AdapterDeployments {
  create(
    actor: {
      principal: UserPrincipal;
      audit: {
        actorType: 'system';
        actorId: null;
        ip: null;
        userAgent: string;
        requestId: null;
      };
    },
    body: {
      model: string;
      runtime: 'llama-cpp';
      source: string;
      replicas: number;
      runtime_args: string[];
      placement?: { node_selector: Record<string, string> };
    },
  ): Promise<unknown>;
}

/**
 * Serves a finished run's LoRA adapter unmerged: a llama.cpp deployment named after the fine-tuned
 * model that loads the base GGUF with `--lora <adapter>` on the node that trained it (the adapter
 * lives in that node's agent data directory). The platform creates it, as a platform admin would:
 * the path and the argument are the agent's, never the tenant's. The base GGUF's own chat template
 * (the one the trainer rendered, its hash in the job's events) answers the chat.
 */
export async function deployAdapter(
  deployments: AdapterDeployments,
  job: FineTuningJobRow,
  name: string,
  adapterPath: string,
  local: boolean,
): Promise<void> {
  const principal: UserPrincipal = {
    kind: 'user',
    userId: 'system:fine-tuning',
    email: 'fine-tuning@maas.local',
    orgId: job.orgId,
    role: 'owner',
    isPlatformAdmin: true,
    sessionId: '',
  };
  await deployments.create(
    {
      principal,
      audit: { actorType: 'system', actorId: null, ip: null, userAgent: 'maas-fine-tuning', requestId: null },
    },
    {
      model: name,
      runtime: 'llama-cpp',
      source: job.baseSource,
      replicas: 1,
      runtime_args: ['--lora', adapterPath],
      ...(local ? { placement: { node_selector: { 'maas/local': 'true' } } } : {}),
    },
  );
}
