/**
 * Just enough of a browser for sign-in flows over fetch: a cookie jar per host (name=value only),
 * redirects followed by hand (each hop visible), and HTML forms submitted by their action.
 */
export interface Hop {
  url: string;
  status: number;
  location: string | null;
  setCookies: string[];
}

export function createTestBrowser() {
  const jar = new Map<string, Map<string, string>>();
  const hops: Hop[] = [];

  function store(url: URL, setCookies: string[]) {
    const cookies = jar.get(url.host) ?? new Map<string, string>();
    jar.set(url.host, cookies);
    for (const line of setCookies) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || /expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === '') cookies.delete(name);
      else cookies.set(name, value);
    }
  }

  function cookieHeader(url: URL): string {
    return [...(jar.get(url.host) ?? new Map()).entries()].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async function request(url: string, init: RequestInit = {}): Promise<Response> {
    const u = new URL(url);
    const headers = new Headers(init.headers);
    const cookie = cookieHeader(u);
    if (cookie) headers.set('cookie', cookie);
    const res = await fetch(u, { ...init, headers, redirect: 'manual' });
    const setCookies = res.headers.getSetCookie();
    store(u, setCookies);
    hops.push({ url, status: res.status, location: res.headers.get('location'), setCookies });
    return res;
  }

  return {
    hops,
    request,
    cookie: (host: string, name: string) => jar.get(host)?.get(name),
    setCookie: (host: string, name: string, value: string) => {
      const cookies = jar.get(host) ?? new Map<string, string>();
      cookies.set(name, value);
      jar.set(host, cookies);
    },

    /**
     * Follows redirects from `url`; on a page with a form (the IdP's login or consent) submits it
     * with `fields` added, and goes on until `stop` says a URL is where the flow ends (not fetched).
     */
    async follow(url: string, fields: Record<string, string>, stop: (url: URL) => boolean): Promise<URL> {
      let next: { url: string; init?: RequestInit } = { url };
      for (let i = 0; i < 30; i++) {
        const target = new URL(next.url);
        if (stop(target)) return target;
        const res = await request(next.url, next.init);
        const location = res.headers.get('location');
        if (location && res.status >= 300 && res.status < 400) {
          await res.arrayBuffer();
          next = { url: new URL(location, next.url).href };
          continue;
        }
        const html = await res.text();
        const form = /<form[^>]*action="([^"]+)"[^>]*method="post"/i.exec(html);
        if (!form)
          throw new Error(`no redirect and no form at ${next.url} (${res.status}): ${html.slice(0, 300)}`);
        const body = new URLSearchParams();
        for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g))
          body.set(m[1]!, m[2]!);
        const prompt = body.get('prompt');
        if (prompt === 'login') for (const [k, v] of Object.entries(fields)) body.set(k, v);
        next = {
          url: new URL(form[1]!.replace(/&amp;/g, '&'), next.url).href,
          init: {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: body.toString(),
          },
        };
      }
      throw new Error('too many hops');
    },
  };
}

export type TestBrowser = ReturnType<typeof createTestBrowser>;
