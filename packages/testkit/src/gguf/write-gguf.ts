/** A GGUF v3 writer (little endian, F32 tensors): enough to make real model files for tests. */
export type GgufValue =
  | { type: 'u32'; value: number }
  | { type: 'i32'; value: number }
  | { type: 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'string[]'; value: string[] }
  | { type: 'f32[]'; value: number[] }
  | { type: 'i32[]'; value: number[] };

export interface GgufTensor {
  name: string;
  /** ggml order: the first dimension is the innermost (row length) */
  shape: number[];
  data: Float32Array;
}

const T = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9 } as const;
const ALIGNMENT = 32;

export function writeGguf(metadata: Record<string, GgufValue>, tensors: GgufTensor[]): Buffer {
  const parts: Buffer[] = [];
  const u32 = (n: number) => parts.push(Buffer.from(new Uint32Array([n]).buffer));
  const i32 = (n: number) => parts.push(Buffer.from(new Int32Array([n]).buffer));
  const f32 = (n: number) => parts.push(Buffer.from(new Float32Array([n]).buffer));
  const u64 = (n: number) => parts.push(Buffer.from(new BigUint64Array([BigInt(n)]).buffer));
  const str = (s: string) => {
    const bytes = Buffer.from(s, 'utf8');
    u64(bytes.length);
    parts.push(bytes);
  };
  const array = (type: number, items: unknown[], write: (v: never) => void) => {
    u32(T.array);
    u32(type);
    u64(items.length);
    for (const item of items) write(item as never);
  };

  parts.push(Buffer.from('GGUF', 'ascii'));
  u32(3);
  u64(tensors.length);
  u64(Object.keys(metadata).length);
  for (const [key, v] of Object.entries(metadata)) {
    str(key);
    if (v.type === 'string[]') array(T.string, v.value, str);
    else if (v.type === 'f32[]') array(T.f32, v.value, f32);
    else if (v.type === 'i32[]') array(T.i32, v.value, i32);
    else {
      u32(T[v.type]);
      if (v.type === 'string') str(v.value);
      else if (v.type === 'bool') parts.push(Buffer.from([v.value ? 1 : 0]));
      else ({ u32, i32, f32 })[v.type](v.value);
    }
  }
  const pad = (n: number) => (ALIGNMENT - (n % ALIGNMENT)) % ALIGNMENT;
  let offset = 0;
  for (const t of tensors) {
    str(t.name);
    u32(t.shape.length);
    for (const d of t.shape) u64(d);
    u32(0); // GGML_TYPE_F32
    u64(offset);
    offset += t.data.byteLength + pad(t.data.byteLength);
  }
  const header = Buffer.concat(parts);
  const out: Buffer[] = [header, Buffer.alloc(pad(header.length))];
  for (const t of tensors) {
    out.push(
      Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength),
      Buffer.alloc(pad(t.data.byteLength)),
    );
  }
  return Buffer.concat(out);
}
