"""A llama forward pass in torch over a GGUF's weights, with LoRA on attn_q and attn_v, and the
GGUF's SentencePiece-style vocabulary as a greedy longest-match tokenizer with byte fallback.

The rotary embedding is llama.cpp's LLAMA_ROPE_TYPE_NORM (adjacent pairs), so an adapter trained
here applies to the same computation llama.cpp runs.
"""
import math

import torch
import torch.nn.functional as F


class Tokenizer:
    def __init__(self, meta):
        self.tokens = meta["tokenizer.ggml.tokens"]
        self.ids = {t: i for i, t in enumerate(self.tokens)}
        self.bos = int(meta.get("tokenizer.ggml.bos_token_id", 1))
        self.eos = int(meta.get("tokenizer.ggml.eos_token_id", 2))
        types = meta.get("tokenizer.ggml.token_type", [1] * len(self.tokens))
        self.specials = {t: i for i, t in enumerate(self.tokens) if types[i] == 3}
        self.special_ids = set(self.specials.values())
        self.scores = meta.get("tokenizer.ggml.scores", [0.0] * len(self.tokens))

    def special(self, piece):
        return self.specials[piece]

    def encode(self, text, space_prefix=False):
        """llama.cpp's SPM tokenizer: characters, then merges of the adjacent pair whose joined
        piece is in the vocabulary with the best score (leftmost first), then byte fallback."""
        s = ("▁" if space_prefix else "") + text.replace(" ", "▁")
        syms = list(s)
        while len(syms) > 1:
            best, at = None, -1
            for i in range(len(syms) - 1):
                tid = self.ids.get(syms[i] + syms[i + 1])
                if tid is None or tid in self.special_ids:
                    continue
                if best is None or self.scores[tid] > best:
                    best, at = self.scores[tid], i
            if at < 0:
                break
            syms[at : at + 2] = [syms[at] + syms[at + 1]]
        out = []
        for sym in syms:
            tid = self.ids.get(sym)
            if tid is not None and tid not in self.special_ids:
                out.append(tid)
            else:
                out.extend(self.ids.get(f"<0x{b:02X}>", 0) for b in sym.encode("utf-8"))
        return out


class LoraLinear(torch.nn.Module):
    def __init__(self, weight, rank, alpha):
        super().__init__()
        self.weight = weight  # frozen (out, in)
        out_f, in_f = weight.shape
        self.lora_a = torch.nn.Parameter(torch.randn(rank, in_f) / math.sqrt(in_f))
        self.lora_b = torch.nn.Parameter(torch.zeros(out_f, rank))
        self.scale = alpha / rank
        self.enabled = True

    def forward(self, x):
        y = x @ self.weight.t()
        if self.enabled:
            y = y + (x @ self.lora_a.t() @ self.lora_b.t()) * self.scale
        return y


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope(x, base=10000.0):
    # x: (batch, heads, seq, dim); pairs (0,1), (2,3), ...
    _, _, seq, dim = x.shape
    inv = base ** (-torch.arange(0, dim, 2, dtype=torch.float32) / dim)
    ang = torch.arange(seq, dtype=torch.float32)[:, None] * inv[None, :]
    cos, sin = ang.cos(), ang.sin()
    x0, x1 = x[..., 0::2], x[..., 1::2]
    out = torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), dim=-1)
    return out.flatten(-2)


class TinyLlama(torch.nn.Module):
    def __init__(self, meta, tensors, rank, alpha):
        super().__init__()
        arch = meta["general.architecture"]
        if arch != "llama":
            raise ValueError(f"architecture {arch} is not supported by this trainer (llama only)")
        self.n_layers = int(meta["llama.block_count"])
        self.n_heads = int(meta["llama.attention.head_count"])
        self.n_kv = int(meta.get("llama.attention.head_count_kv", self.n_heads))
        self.eps = float(meta.get("llama.attention.layer_norm_rms_epsilon", 1e-5))
        self.rope_base = float(meta.get("llama.rope.freq_base", 10000.0))
        self.t = {k: v.requires_grad_(False) for k, v in tensors.items()}
        self.lora = torch.nn.ModuleDict()
        for layer in range(self.n_layers):
            for part in ("attn_q", "attn_v"):
                name = f"blk.{layer}.{part}.weight"
                self.lora[name.replace(".", "_")] = LoraLinear(self.t[name], rank, alpha)

    def set_lora(self, enabled):
        for m in self.lora.values():
            m.enabled = enabled

    def adapter_tensors(self):
        out = {}
        for key, m in self.lora.items():
            name = key.replace("_weight", ".weight").replace("blk_", "blk.").replace("_attn", ".attn")
            out[f"{name}.lora_a"] = m.lora_a
            out[f"{name}.lora_b"] = m.lora_b
        return out

    def forward(self, ids):
        t = self.t
        x = t["token_embd.weight"][ids]
        bsz, seq, dim = x.shape
        hd = dim // self.n_heads
        mask = torch.full((seq, seq), float("-inf")).triu(1)
        for layer in range(self.n_layers):
            p = f"blk.{layer}."
            h = rms_norm(x, t[p + "attn_norm.weight"], self.eps)
            q = self.lora[f"blk_{layer}_attn_q_weight"](h).view(bsz, seq, self.n_heads, hd).transpose(1, 2)
            k = (h @ t[p + "attn_k.weight"].t()).view(bsz, seq, self.n_kv, hd).transpose(1, 2)
            v = self.lora[f"blk_{layer}_attn_v_weight"](h).view(bsz, seq, self.n_kv, hd).transpose(1, 2)
            q, k = rope(q, self.rope_base), rope(k, self.rope_base)
            rep = self.n_heads // self.n_kv
            k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
            att = (q @ k.transpose(-1, -2)) / math.sqrt(hd) + mask
            o = (F.softmax(att, dim=-1) @ v).transpose(1, 2).reshape(bsz, seq, dim)
            x = x + o @ t[p + "attn_output.weight"].t()
            h = rms_norm(x, t[p + "ffn_norm.weight"], self.eps)
            gate = F.silu(h @ t[p + "ffn_gate.weight"].t()) * (h @ t[p + "ffn_up.weight"].t())
            x = x + gate @ t[p + "ffn_down.weight"].t()
        x = rms_norm(x, t["output_norm.weight"], self.eps)
        out_w = t.get("output.weight", t["token_embd.weight"])
        return x @ out_w.t()
