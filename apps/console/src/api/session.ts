/**
 * The signed-in session. The access token lives in memory only; the refresh token is the HttpOnly
 * `maas_refresh` cookie that the browser sends to /api/v1/auth and no script can read. A reload
 * restores the session through that cookie.
 */
export interface Session {
  accessToken: string;
  /** epoch ms when the access token expires */
  expiresAt: number;
  orgId: string;
}

export interface TokenPair {
  access_token: string;
  /** only for non-browser clients (`token_delivery: "body"`); the console never gets or keeps it */
  refresh_token?: string;
  token_type: 'Bearer';
  expires_in: number;
  org_id: string;
}

/** Not a secret: only that this browser holds a session cookie worth trying after a reload. */
const HINT_KEY = 'maas.signed-in';
type Listener = (session: Session | null) => void;
const listeners = new Set<Listener>();

let current: Session | null = null;

function notify() {
  for (const fn of listeners) fn(current);
}

export const sessionStore = {
  get: (): Session | null => current,
  /** true when an earlier visit signed in: the cookie may restore the session */
  mayRestore(): boolean {
    try {
      return localStorage.getItem(HINT_KEY) !== null;
    } catch {
      return false;
    }
  },
  setFromTokens(pair: TokenPair): Session {
    current = {
      accessToken: pair.access_token,
      expiresAt: Date.now() + pair.expires_in * 1000,
      orgId: pair.org_id,
    };
    localStorage.setItem(HINT_KEY, '1');
    notify();
    return current;
  },
  clear(): void {
    current = null;
    localStorage.removeItem(HINT_KEY);
    notify();
  },
  subscribe(fn: Listener): () => void {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },
};

// another tab signed out: so does this one
if (typeof window !== 'undefined') {
  window.addEventListener('storage', (event) => {
    if (event.key !== HINT_KEY || event.newValue !== null || !current) return;
    current = null;
    notify();
  });
}
