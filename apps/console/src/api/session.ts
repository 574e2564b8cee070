/** The signed-in session: tokens kept in localStorage so a reload stays signed in. */
export interface Session {
  accessToken: string;
  refreshToken: string;
  /** epoch ms when the access token expires */
  expiresAt: number;
  orgId: string;
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
  org_id: string;
}

const STORAGE_KEY = 'maas.session';
type Listener = (session: Session | null) => void;
const listeners = new Set<Listener>();

function read(): Session | null {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

let current: Session | null = read();

export const sessionStore = {
  get: (): Session | null => current,
  setFromTokens(pair: TokenPair): Session {
    const session = {
      accessToken: pair.access_token,
      refreshToken: pair.refresh_token,
      expiresAt: Date.now() + pair.expires_in * 1000,
      orgId: pair.org_id,
    };
    current = session;
    localStorage.setItem(STORAGE_KEY, JSON.stringify(session));
    for (const fn of listeners) fn(session);
    return session;
  },
  clear(): void {
    current = null;
    localStorage.removeItem(STORAGE_KEY);
    for (const fn of listeners) fn(null);
  },
  subscribe(fn: Listener): () => void {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },
};

// another tab signed in or out
if (typeof window !== 'undefined') {
  window.addEventListener('storage', (event) => {
    if (event.key !== STORAGE_KEY) return;
    current = read();
    for (const fn of listeners) fn(current);
  });
}
