/**
 * The openai SDK asks for `encoding_format: "base64"` by default and decodes little-endian float32.
 * Upstreams that ignore the format answer with float arrays: convert them, in place, to what the
 * client asked for. Returns true when something changed.
 */
export function conformEmbeddings(parsed: unknown, encodingFormat: string | undefined): boolean {
  const data = (parsed as { data?: unknown })?.data;
  if (!Array.isArray(data)) return false;
  const wantBase64 = encodingFormat === 'base64';
  let changed = false;
  for (const item of data) {
    if (!item || typeof item !== 'object') continue;
    const embedding = (item as { embedding?: unknown }).embedding;
    if (wantBase64 && Array.isArray(embedding)) {
      (item as { embedding: unknown }).embedding = floatsToBase64(embedding as number[]);
      changed = true;
    } else if (!wantBase64 && typeof embedding === 'string') {
      (item as { embedding: unknown }).embedding = base64ToFloats(embedding);
      changed = true;
    }
  }
  return changed;
}

export function floatsToBase64(values: number[]): string {
  const buf = Buffer.allocUnsafe(values.length * 4);
  for (let i = 0; i < values.length; i++) buf.writeFloatLE(Number(values[i]) || 0, i * 4);
  return buf.toString('base64');
}

export function base64ToFloats(b64: string): number[] {
  const buf = Buffer.from(b64, 'base64');
  const out = new Array<number>(buf.length >>> 2);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}
