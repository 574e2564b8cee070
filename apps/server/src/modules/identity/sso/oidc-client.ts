import { type OutboundPolicy, outboundFetch } from '@maas/outbound';
import type { Configuration, CustomFetch } from 'openid-client';
import type { IdpKind } from '../sso-schema.ts';
import { githubEndpoints } from './github.ts';

export interface OidcProviderConfig {
  id: string;
  kind: IdpKind;
  issuer: string;
  clientId: string;
  clientSecret: string | null;
  updatedAt: Date;
}

const TTL_MS = 10 * 60_000;

/** openid-client (and oauth4webapi under it) loads with the first single sign-on, not at start */
export const openidClient = () => import('openid-client');

/**
 * Discovery documents of the configured providers, fetched through the outbound policy (an issuer
 * on a private address is reached only when MAAS_OUTBOUND_ALLOW lists it, like a provider's URL)
 * and kept for ten minutes or until the provider's row changes.
 */
export function createOidcClients({ outbound }: { outbound: OutboundPolicy }) {
  const { fetch } = outboundFetch(outbound, { timeout: 10_000 });
  const cache = new Map<string, { at: number; version: number; config: Promise<Configuration> }>();
  const customFetch: CustomFetch = (url, options) =>
    fetch(url, { ...options, signal: options.signal ?? AbortSignal.timeout(15_000) } as RequestInit);

  async function discover(p: OidcProviderConfig): Promise<Configuration> {
    const oidc = await openidClient();
    const url = new URL(p.issuer);
    const auth = p.clientSecret ? oidc.ClientSecretPost(p.clientSecret) : oidc.None();
    if (p.kind === 'github') {
      // OAuth 2.0 only: no discovery document, the endpoints follow from the base URL
      const { api: _api, ...endpoints } = githubEndpoints(p.issuer);
      const config = new oidc.Configuration({ issuer: p.issuer, ...endpoints }, p.clientId, undefined, auth);
      config[oidc.customFetch] = customFetch;
      if (url.protocol === 'http:') oidc.allowInsecureRequests(config);
      return config;
    }
    return oidc
      .discovery(url, p.clientId, undefined, auth, {
        [oidc.customFetch]: customFetch,
        // an http issuer is an internal IdP the platform admin configured (and allowed) on purpose
        ...(url.protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : {}),
        timeout: 15,
      })
      .then((config) => {
        config[oidc.customFetch] = customFetch;
        return config;
      });
  }

  return {
    /** fetch through the outbound policy, for a provider's own APIs (GitHub's user and emails) */
    fetch: (url: string, init?: RequestInit) => fetch(url, init),

    configOf(p: OidcProviderConfig): Promise<Configuration> {
      const hit = cache.get(p.id);
      const version = p.updatedAt.getTime();
      if (hit && hit.version === version && Date.now() - hit.at < TTL_MS) return hit.config;
      const config = discover(p);
      cache.set(p.id, { at: Date.now(), version, config });
      config.catch(() => cache.delete(p.id));
      return config;
    },
    forget(id: string): void {
      cache.delete(id);
    },
  };
}

export type OidcClients = ReturnType<typeof createOidcClients>;
