// The image's HEALTHCHECK: healthy when this container's maas answers /readyz with 200
// (database reachable, schema migrated). Exit 0 healthy, 1 not.
const port = process.env.MAAS_PORT || '8080';
const timeout = AbortSignal.timeout(4_000);
try {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: timeout });
  process.exit(res.status === 200 ? 0 : 1);
} catch {
  process.exit(1);
}
