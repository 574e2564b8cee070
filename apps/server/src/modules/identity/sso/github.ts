/**
 * GitHub (and GitHub Enterprise Server) sign-in: OAuth 2.0 without OpenID Connect, so there is no
 * discovery document and no ID token. The endpoints follow from the configured base URL and the
 * claims come from GitHub's REST API with the access token.
 */

export const GITHUB_DEFAULT_SCOPES = 'read:user user:email read:org';

/** github.com's API lives on api.github.com; an Enterprise Server's under /api/v3 of its host. */
export function githubEndpoints(base: string) {
  const root = base.replace(/\/+$/, '');
  const host = new URL(root).host;
  return {
    authorization_endpoint: `${root}/login/oauth/authorize`,
    token_endpoint: `${root}/login/oauth/access_token`,
    api: host === 'github.com' ? 'https://api.github.com' : `${root}/api/v3`,
  };
}

interface GithubUser {
  id: number;
  login: string;
  name: string | null;
}
interface GithubEmail {
  email: string;
  primary: boolean;
  verified: boolean;
}

/**
 * The account as claims the SSO account rules read: `sub` (GitHub's numeric id, stable across
 * renames), a verified email (the primary first; an unverified one is passed as such and refused), and
 * the user's organizations as `groups`.
 */
export async function githubClaims(
  fetch: (url: string, init?: RequestInit) => Promise<Response>,
  api: string,
  accessToken: string,
): Promise<Record<string, unknown>> {
  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${api}${path}`, {
      headers: {
        authorization: `Bearer ${accessToken}`,
        accept: 'application/vnd.github+json',
        'x-github-api-version': '2022-11-28',
      },
      signal: AbortSignal.timeout(15_000),
    });
    if (!res.ok) throw new Error(`GitHub API ${path} answered ${res.status}`);
    return (await res.json()) as T;
  };
  const user = await get<GithubUser>('/user');
  const emails = await get<GithubEmail[]>('/user/emails');
  // without read:org GitHub answers 403 or an empty list: the account still signs in, without groups
  const orgs = await get<{ login: string }[]>('/user/orgs').catch(() => []);
  const chosen =
    emails.find((e) => e.primary && e.verified) ??
    emails.find((e) => e.verified) ??
    emails.find((e) => e.primary);
  return {
    sub: String(user.id),
    preferred_username: user.login,
    name: user.name ?? user.login,
    ...(chosen ? { email: chosen.email, email_verified: chosen.verified } : {}),
    groups: orgs.map((o) => o.login),
  };
}
