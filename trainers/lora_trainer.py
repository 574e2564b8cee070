"""maas LoRA trainer (CPU or GPU torch): trains a LoRA on a llama GGUF's attn_q/attn_v for a chat
(supervised) or preference (dpo) JSONL dataset and writes a llama.cpp LoRA adapter GGUF.

The node agent starts it from a platform-admin preset; every argument is a number or a path the
agent picked inside its own data directory. Progress goes to stdout as one JSON object a line:
  {"type":"metrics","step":N,"total_steps":T,"train_loss":x,"lr":x,"tokens_per_s":x,"trained_tokens":n}
  {"type":"validation","step":N,"valid_loss":x}
  {"type":"checkpoint","step":N,"path":"checkpoints/step-N.pt"}
  {"type":"done","adapter":"adapter.gguf","trained_tokens":n,"steps":T}
A run started again with the same --out resumes from its last checkpoint.
"""
import argparse
import hashlib
import json
import math
import os
import random
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_io import read_gguf, write_lora_gguf  # noqa: E402
from tiny_llama import TinyLlama, Tokenizer  # noqa: E402


def emit(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def chat_tokens(tok, messages, max_len):
    """The base model's ChatML as llama.cpp tokenizes the rendered template: specials parsed, each
    text fragment after a special token space-prefixed. Labels: assistant contents and their end."""
    start, end = tok.special("<|im_start|>"), tok.special("<|im_end|>")
    ids, labels = [tok.bos], [-100]
    for m in messages:
        head = [start] + tok.encode(m["role"], space_prefix=True) + tok.encode("\n")
        body = tok.encode(m.get("content") or "") + [end]
        tail = tok.encode("\n", space_prefix=True)
        learn = m["role"] == "assistant" and m.get("weight", 1) != 0
        ids += head + body + tail
        labels += [-100] * len(head) + (body if learn else [-100] * len(body)) + [-100] * len(tail)
    return ids[:max_len], labels[:max_len]


def load_examples(path, method, tok, max_len):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            row = json.loads(line)
            if method == "dpo":
                prompt = row["input"]["messages"]
                out.append(
                    (
                        chat_tokens(tok, prompt + row["preferred_output"][:1], max_len),
                        chat_tokens(tok, prompt + row["non_preferred_output"][:1], max_len),
                    )
                )
            else:
                out.append(chat_tokens(tok, row["messages"], max_len))
    return out


def pad(batch):
    n = max(len(ids) for ids, _ in batch)
    ids = torch.tensor([i + [0] * (n - len(i)) for i, _ in batch])
    labels = torch.tensor([l + [-100] * (n - len(l)) for _, l in batch])
    return ids, labels


def token_logps(model, batch):
    ids, labels = pad(batch)
    logits = model(ids)[:, :-1]
    target = labels[:, 1:]
    mask = target != -100
    lp = torch.log_softmax(logits, -1).gather(-1, target.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (lp * mask).sum(-1), int(mask.sum())


def sft_loss(model, batch):
    ids, labels = pad(batch)
    logits = model(ids)[:, :-1]
    target = labels[:, 1:]
    n = int((target != -100).sum())
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=-100)
    return loss, n, int(ids.numel())


def dpo_loss(model, batch, beta):
    chosen = [c for c, _ in batch]
    rejected = [r for _, r in batch]
    with torch.no_grad():
        model.set_lora(False)
        ref_c, _ = token_logps(model, chosen)
        ref_r, _ = token_logps(model, rejected)
        model.set_lora(True)
    pol_c, n_c = token_logps(model, chosen)
    pol_r, n_r = token_logps(model, rejected)
    loss = -F.logsigmoid(beta * ((pol_c - ref_c) - (pol_r - ref_r))).mean()
    tokens = sum(len(i) for i, _ in chosen) + sum(len(i) for i, _ in rejected)
    return loss, n_c + n_r, tokens


def latest_checkpoint(folder):
    if not os.path.isdir(folder):
        return None
    steps = [int(n[5:-3]) for n in os.listdir(folder) if n.startswith("step-") and n.endswith(".pt")]
    return os.path.join(folder, f"step-{max(steps)}.pt") if steps else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--train", required=True)
    ap.add_argument("--validation")
    ap.add_argument("--out", required=True)
    ap.add_argument("--method", choices=["supervised", "dpo"], default="supervised")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--learning-rate", type=float, default=1e-2)
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--alpha", type=float, default=16.0)
    ap.add_argument("--beta", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--checkpoint-every", type=int, default=5)
    ap.add_argument("--step-delay-ms", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    os.umask(0o077)  # checkpoints and the adapter: 0600 in 0700 folders

    torch.set_num_threads(max(1, a.threads))
    torch.manual_seed(a.seed)
    random.seed(a.seed)
    meta, tensors = read_gguf(a.base)
    template = meta.get("tokenizer.chat_template", "")
    emit(type="info", chat_template_sha256=hashlib.sha256(template.encode()).hexdigest(), torch=torch.__version__)
    tok = Tokenizer(meta)
    ctx = int(meta.get("llama.context_length", a.max_length))
    max_len = min(a.max_length, ctx)
    model = TinyLlama(meta, tensors, a.rank, a.alpha)
    train = load_examples(a.train, a.method, tok, max_len)
    valid = load_examples(a.validation, a.method, tok, max_len) if a.validation else []
    if not train:
        raise SystemExit("the training file has no examples")
    per_epoch = math.ceil(len(train) / a.batch_size)
    total = per_epoch * a.epochs
    opt = torch.optim.AdamW(model.lora.parameters(), lr=a.learning_rate, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, 1.0 - s / total) if s >= 1 else 1.0)
    ckpt_dir = os.path.join(a.out, "checkpoints")
    os.makedirs(ckpt_dir, mode=0o700, exist_ok=True)
    step, trained = 0, 0
    last = latest_checkpoint(ckpt_dir)
    if last:
        state = torch.load(last)
        model.lora.load_state_dict(state["lora"])
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        step, trained = state["step"], state["trained_tokens"]
        emit(type="resumed", step=step, path=os.path.relpath(last, a.out))

    def loss_of(batch):
        return dpo_loss(model, batch, a.beta) if a.method == "dpo" else sft_loss(model, batch)

    while step < total:
        epoch, index = divmod(step, per_epoch)
        order = list(range(len(train)))
        random.Random(a.seed + epoch).shuffle(order)
        batch = [train[i] for i in order[index * a.batch_size : (index + 1) * a.batch_size]]
        t0 = time.time()
        loss, _, tokens = loss_of(batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        lr = opt.param_groups[0]["lr"]
        sched.step()
        step += 1
        trained += tokens
        elapsed = max(time.time() - t0, 1e-6)
        emit(
            type="metrics",
            step=step,
            total_steps=total,
            epoch=epoch + 1,
            train_loss=round(float(loss), 6),
            lr=lr,
            tokens_per_s=round(tokens / elapsed, 1),
            trained_tokens=trained,
        )
        if valid and (step % per_epoch == 0 or step == total):
            with torch.no_grad():
                vl = float(loss_of(valid[: a.batch_size * 4])[0])
            emit(type="validation", step=step, valid_loss=round(vl, 6))
        if step % a.checkpoint_every == 0 or step == total:
            path = os.path.join(ckpt_dir, f"step-{step}.pt")
            state = {
                "lora": model.lora.state_dict(),
                "opt": opt.state_dict(),
                "sched": sched.state_dict(),
                "step": step,
                "trained_tokens": trained,
            }
            torch.save(state, path + ".tmp")
            os.replace(path + ".tmp", path)
            emit(type="checkpoint", step=step, path=os.path.relpath(path, a.out), train_loss=round(float(loss), 6))
        if a.step_delay_ms > 0:
            time.sleep(a.step_delay_ms / 1000)

    write_lora_gguf(os.path.join(a.out, "adapter.gguf"), "llama", a.alpha, model.adapter_tensors())
    emit(type="done", adapter="adapter.gguf", trained_tokens=trained, steps=total)


if __name__ == "__main__":
    main()
