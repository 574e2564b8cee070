import type { RequestContext, ResponseContext } from '@kubernetes/client-node';
import { type OutboundPolicy, policyConnector } from '@maas/outbound';
import { Agent, fetch } from '@maas/outbound/undici';

/** What maas needs to reach one cluster's API server. */
export interface KubeTarget {
  apiServer: string;
  /** PEM; null: the system's CAs */
  caCert: string | null;
  token: string;
}

/** The field manager maas applies its objects as (server-side apply). */
export const FIELD_MANAGER = 'maas';

/**
 * Typed Kubernetes API clients (`@kubernetes/client-node`) for one cluster. Every connection is
 * opened through the outbound policy's connector (so the API server's address is checked when
 * dialled, metadata services and maas itself never are) with the cluster's CA; the service-account
 * token travels only in the Authorization header.
 */
export async function createKubeApi(target: KubeTarget, outbound: OutboundPolicy, timeoutMs = 10_000) {
  const {
    AppsV1Api,
    CoreV1Api,
    createConfiguration,
    PatchStrategy,
    ResponseContext,
    SelfDecodingBody,
    ServerConfiguration,
    setHeaderOptions,
    wrapHttpLibrary,
  } = await loadKube();
  const dispatcher = new Agent({
    connect: policyConnector(outbound, {
      timeout: timeoutMs,
      ...(target.caCert ? { ca: target.caCert } : {}),
    }),
  });
  const httpApi = wrapHttpLibrary({
    async send(request: RequestContext): Promise<ResponseContext> {
      const res = await fetch(request.getUrl(), {
        method: request.getHttpMethod(),
        headers: request.getHeaders(),
        body: request.getBody() as string | undefined,
        signal: request.getSignal() ?? AbortSignal.timeout(timeoutMs * 3),
        dispatcher,
      });
      const headers: Record<string, string> = {};
      res.headers.forEach((value, name) => {
        headers[name] = value;
      });
      const body = Buffer.from(await res.arrayBuffer());
      return new ResponseContext(res.status, headers, new SelfDecodingBody(Promise.resolve(body)));
    },
  });
  const config = createConfiguration({
    baseServer: new ServerConfiguration(target.apiServer.replace(/\/+$/, ''), {}),
    httpApi,
    authMethods: {
      default: {
        getName: () => 'BearerToken',
        applySecurityAuthentication: (ctx: RequestContext) =>
          ctx.setHeaderParam('Authorization', `Bearer ${target.token}`),
      },
    },
  });
  return {
    apps: new AppsV1Api(config),
    core: new CoreV1Api(config),
    /** per-call options that make a PATCH a server-side apply */
    apply: setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    close: () => dispatcher.close(),
  };
}

export type KubeApi = Awaited<ReturnType<typeof createKubeApi>>;

type KubeModule = typeof import('@kubernetes/client-node');
/** the client library (~75 MB resident, 1.5 s to load): loaded when a cluster is first reconciled */
let kube: KubeModule | undefined;
const loadKube = async (): Promise<KubeModule> => {
  kube ??= await import('@kubernetes/client-node');
  return kube;
};

/** An error the client library threw (none can exist before it is loaded). */
const apiException = (err: unknown) => (kube && err instanceof kube.ApiException ? err : null);

/** The HTTP status of a failed Kubernetes call, or null when it never got an answer. */
export const statusOf = (err: unknown): number | null => apiException(err)?.code ?? null;

/** A short, secret-free line saying why a call failed (the API's own message when it gave one). */
export function describeKubeError(err: unknown): string {
  const apiError = apiException(err);
  if (apiError) {
    let message: string | undefined;
    try {
      const body = typeof apiError.body === 'string' ? JSON.parse(apiError.body) : apiError.body;
      message = (body as { message?: string } | undefined)?.message;
    } catch {}
    return `the Kubernetes API answered ${apiError.code}${message ? `: ${message}` : ''}`;
  }
  const e = err as { message?: string; cause?: { message?: string; code?: string } };
  const cause = e?.cause?.message ?? e?.cause?.code;
  return `the Kubernetes API could not be reached: ${cause ?? e?.message ?? String(err)}`.slice(0, 300);
}
