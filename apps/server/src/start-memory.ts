/**
 * Gives back the memory the server's start grew but does not use once it serves. Loading the
 * server's modules and building its routes allocates fast and much of it survives, so V8 grows the
 * main thread's young generation to its maximum (2 × 16 MB) and keeps it, all of it resident (~30 MB
 * of `maas serve`'s RSS); an ordinary collection keeps that size. A memory-reducing collection (V8's
 * low-memory notification, which the inspector's HeapProfiler.collectGarbage runs, in process: no
 * port is opened) shrinks it back and releases the old generation's free pages. Under load the young
 * generation grows again as far as requests need it. Nothing else in Node asks V8 for this.
 *
 * Resolves once done; does nothing on a Node built without the inspector.
 */
export async function releaseStartMemory(): Promise<void> {
  let inspector: typeof import('node:inspector');
  try {
    inspector = await import('node:inspector');
  } catch {
    return; // ERR_INSPECTOR_NOT_AVAILABLE
  }
  const session = new inspector.Session();
  session.connect();
  try {
    await new Promise<void>((resolve, reject) =>
      session.post('HeapProfiler.collectGarbage', (err) => (err ? reject(err) : resolve())),
    );
  } finally {
    session.disconnect();
  }
}
