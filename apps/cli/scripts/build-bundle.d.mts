/** True when dist/ is missing or older than a file it was built from. */
export function bundleIsStale(): boolean;
/** Builds dist/maas.mjs and its chunks. */
export function buildBundle(): Promise<void>;
/** Builds the bundle when it is stale; true when it built. */
export function buildBundleIfStale(): Promise<boolean>;
