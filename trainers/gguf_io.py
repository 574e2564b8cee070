"""Reading a llama GGUF (F32/F16 tensors) and writing a llama.cpp LoRA adapter GGUF.

Only what the LoRA trainer needs: the metadata, the tensors as torch tensors in PyTorch's
(out, in) layout, and an adapter writer whose tensors llama.cpp's `--lora` loads
(`blk.N.attn_q.weight.lora_a` with ne = [in, r], `.lora_b` with ne = [r, out]).
"""
import struct

import numpy as np
import torch

_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
GGML_F32 = 0
GGML_F16 = 1


class _Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, fmt):
        value = struct.unpack_from(fmt, self.data, self.pos)[0]
        self.pos += struct.calcsize(fmt)
        return value

    def string(self):
        n = self.take("<Q")
        value = self.data[self.pos : self.pos + n].decode("utf-8", errors="replace")
        self.pos += n
        return value

    def value(self, kind):
        if kind == 8:
            return self.string()
        if kind == 9:
            item = self.take("<I")
            count = self.take("<Q")
            return [self.value(item) for _ in range(count)]
        if kind not in _SCALARS:
            raise ValueError(f"unsupported GGUF value type {kind}")
        return self.take(_SCALARS[kind])


def read_gguf(path):
    """Returns (metadata dict, {name: torch tensor in (ne[n-1], ..., ne[0]) order})."""
    with open(path, "rb") as f:
        data = f.read()
    r = _Reader(data)
    if data[:4] != b"GGUF":
        raise ValueError("not a GGUF file")
    r.pos = 4
    version = r.take("<I")
    if version < 2:
        raise ValueError(f"GGUF version {version} is not supported")
    n_tensors = r.take("<Q")
    n_kv = r.take("<Q")
    meta = {}
    for _ in range(n_kv):
        key = r.string()
        meta[key] = r.value(r.take("<I"))
    infos = []
    for _ in range(n_tensors):
        name = r.string()
        dims = [r.take("<Q") for _ in range(r.take("<I"))]
        kind = r.take("<I")
        offset = r.take("<Q")
        infos.append((name, dims, kind, offset))
    align = int(meta.get("general.alignment", 32))
    start = (r.pos + align - 1) // align * align
    tensors = {}
    for name, dims, kind, offset in infos:
        count = int(np.prod(dims))
        if kind == GGML_F32:
            arr = np.frombuffer(data, dtype=np.float32, count=count, offset=start + offset)
        elif kind == GGML_F16:
            arr = np.frombuffer(data, dtype=np.float16, count=count, offset=start + offset).astype(np.float32)
        else:
            raise ValueError(f"tensor {name}: ggml type {kind} is not supported by this trainer (F32/F16 only)")
        tensors[name] = torch.from_numpy(arr.copy()).reshape(list(reversed(dims)))
    return meta, tensors


def _string(out, s):
    b = s.encode("utf-8")
    out += struct.pack("<Q", len(b)) + b


def write_lora_gguf(path, arch, alpha, tensors, align=32):
    """tensors: {name: torch tensor (rows, cols)}; written F32 with ne = [cols, rows]."""
    meta = [
        ("general.architecture", 8, arch),
        ("general.type", 8, "adapter"),
        ("adapter.type", 8, "lora"),
        ("adapter.lora.alpha", 6, float(alpha)),
    ]
    out = bytearray(b"GGUF")
    out += struct.pack("<IQQ", 3, len(tensors), len(meta))
    for key, kind, value in meta:
        _string(out, key)
        out += struct.pack("<I", kind)
        if kind == 8:
            _string(out, value)
        else:
            out += struct.pack(_SCALARS[kind], value)
    blobs = []
    offset = 0
    for name, t in tensors.items():
        arr = t.detach().to(torch.float32).contiguous().numpy()
        _string(out, name)
        dims = list(reversed(arr.shape))
        out += struct.pack("<I", len(dims))
        for d in dims:
            out += struct.pack("<Q", d)
        out += struct.pack("<IQ", GGML_F32, offset)
        blob = arr.tobytes()
        pad = (align - len(blob) % align) % align
        blobs.append(blob + b"\0" * pad)
        offset += len(blob) + pad
    out += b"\0" * ((align - len(out) % align) % align)
    for blob in blobs:
        out += blob
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(out)
    import os

    os.replace(tmp, path)
