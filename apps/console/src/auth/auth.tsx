import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { api, refreshSession, request } from '../api/client.ts';
import { type Session, sessionStore, type TokenPair } from '../api/session.ts';
import type { Me, Permission, Role } from '../api/types.ts';

/** A password sign-in that needs its second factor ("verify") or must set one up first ("enrol"). */
export interface MfaChallenge {
  mfa_required: 'verify' | 'enrol';
  mfa_token: string;
  expires_in: number;
  org_id: string;
  /** for "verify": the factors the account can answer with */
  mfa_methods?: ('totp' | 'passkey' | 'recovery_code')[];
}

const grants: Record<Role, Permission[]> = {
  viewer: ['read'],
  operator: ['read', 'write'],
  admin: ['read', 'write', 'manage_members'],
  owner: ['read', 'write', 'manage_members', 'delete_org'],
};

interface Auth {
  session: Session | null;
  /** a reload is restoring the session through the refresh cookie: neither signed in nor out yet */
  restoring: boolean;
  me: Me | undefined;
  meLoading: boolean;
  meError: unknown;
  role: Role | null;
  /** what the caller's role allows in this org; the API enforces the same */
  can(permission: Permission): boolean;
  /** signs in, or returns the second-factor challenge the server asked for */
  login(email: string, password: string, orgId?: string): Promise<MfaChallenge | null>;
  /** starts the session from tokens a second step (MFA) or a redirect (SSO) produced */
  finishLogin(pair: TokenPair): void;
  /** new tokens for another org of the user's, without the password */
  switchOrg(orgId: string): Promise<void>;
  logout(): Promise<void>;
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [session, setSession] = useState<Session | null>(sessionStore.get);
  const [restoring, setRestoring] = useState(() => !sessionStore.get() && sessionStore.mayRestore());
  useEffect(
    () =>
      sessionStore.subscribe((next) => {
        setSession(next);
        if (!next) queryClient.clear();
      }),
    [queryClient],
  );
  useEffect(() => {
    if (!restoring) return;
    void refreshSession().finally(() => setRestoring(false));
  }, [restoring]);
  const signedIn = session !== null;
  const orgId = session?.orgId;
  const meQuery = useQuery({
    queryKey: [orgId, 'me'],
    queryFn: () => api.get<Me>('/api/v1/me'),
    enabled: signedIn,
    staleTime: 60_000,
  });

  const login = useCallback(
    async (email: string, password: string, org?: string) => {
      const answer = await request<TokenPair | MfaChallenge>('POST', '/api/v1/auth/login', {
        auth: false,
        // the refresh token comes back as an HttpOnly cookie, never in the body
        body: { email, password, ...(org ? { org_id: org } : {}), token_delivery: 'cookie' },
      });
      if ('mfa_token' in answer) return answer;
      queryClient.clear();
      sessionStore.setFromTokens(answer);
      return null;
    },
    [queryClient],
  );

  const finishLogin = useCallback(
    (pair: TokenPair) => {
      queryClient.clear();
      sessionStore.setFromTokens(pair);
    },
    [queryClient],
  );

  const switchOrg = useCallback(
    async (orgId: string) => {
      const pair = await api.post<TokenPair>('/api/v1/auth/switch-org', { org_id: orgId });
      queryClient.clear();
      sessionStore.setFromTokens(pair);
    },
    [queryClient],
  );

  const logout = useCallback(async () => {
    let endSession: string | null = null;
    try {
      // a session from an identity provider ends there too (RP-initiated logout)
      endSession = (await api.post<{ end_session_url: string | null }>('/api/v1/auth/sso/logout', {}))
        .end_session_url;
    } catch {
      // the session ends here either way
    }
    sessionStore.clear();
    if (endSession) window.location.assign(endSession);
  }, []);

  const value = useMemo<Auth>(() => {
    const role = meQuery.data?.role ?? null;
    return {
      session,
      restoring,
      me: meQuery.data,
      meLoading: meQuery.isLoading,
      meError: meQuery.error,
      role,
      can: (permission) => (role ? grants[role].includes(permission) : false),
      login,
      finishLogin,
      switchOrg,
      logout,
    };
  }, [
    session,
    restoring,
    meQuery.data,
    meQuery.isLoading,
    meQuery.error,
    login,
    finishLogin,
    switchOrg,
    logout,
  ]);

  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error('useAuth outside AuthProvider');
  return ctx;
}
