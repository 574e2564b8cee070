/**
 * The API key the playground calls /v1 with. Kept in sessionStorage only: it lives as long as this
 * tab, and the secret is never sent anywhere but the gateway.
 */
export interface PlaygroundKey {
  secret: string;
  name: string;
}

const STORAGE_KEY = 'maas.playground.key';

export function loadPlaygroundKey(): PlaygroundKey | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as PlaygroundKey) : null;
  } catch {
    return null;
  }
}

export function savePlaygroundKey(key: PlaygroundKey | null): void {
  if (key) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(key));
  else sessionStorage.removeItem(STORAGE_KEY);
}
