"""PyTorch reference for the trainer's model benchmark.

Same architecture as packages/trainer/src/model.ts (decoder-only, pre-RMSNorm, RoPE, grouped-query
attention with q/k RMSNorm, SwiGLU MLP, tied embeddings) and the same shapes as
`bun run bench model`: training tokens/s (forward + backward + AdamW on a batch x seq batch) and
KV-cache sampling new tokens/s (batch prompts of `prompt` tokens, `new` sampled tokens each).
Prints one JSON object. A benchmark only; nothing in the project imports torch.

    python3 bench/torch_reference.py [--threads 2] [--repeats 5] [--vocab 259] [--device cuda] ...

With --device cuda the model, batches and KV caches live on the GPU (float32, no TF32) and each
timing waits for the GPU to finish.
"""

import argparse
import json
import os
import sys
import time

from torch_setup import import_torch

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
parser.add_argument("--repeats", type=int, default=5)
parser.add_argument("--vocab", type=int, default=259)
parser.add_argument("--d-model", type=int, default=128)
parser.add_argument("--layers", type=int, default=4)
parser.add_argument("--heads", type=int, default=4)
parser.add_argument("--kv-heads", type=int, default=4)
parser.add_argument("--ff", type=int, default=384)
parser.add_argument("--batch", type=int, default=64)
parser.add_argument("--seq", type=int, default=64)
parser.add_argument("--prompt", type=int, default=16)
parser.add_argument("--new", type=int, default=48)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
args = parser.parse_args()

torch, F = import_torch(args.threads, "torch.nn.functional")
torch.manual_seed(args.seed)
if args.device == "cuda" and not torch.cuda.is_available():
    print(json.dumps({"error": f"--device cuda: torch {torch.__version__} sees no CUDA device"}))
    sys.exit(1)
DEVICE = torch.device(args.device)
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False


def synchronize():
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


D, H, HKV, FF, V = args.d_model, args.heads, args.kv_heads, args.ff, args.vocab
HD = D // H
EPS = 1e-6
THETA = 10000.0


class RMSNorm(torch.nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * self.weight


def rope_tables(positions):
    inv_freq = THETA ** (-torch.arange(0, HD, 2, dtype=torch.float32, device=DEVICE) / HD)
    angles = positions[:, None].float() * inv_freq[None, :]
    angles = torch.cat([angles, angles], dim=-1)
    return angles.cos(), angles.sin()


def apply_rope(x, cos, sin):
    # x: [B, heads, T, HD]; cos/sin: [T, HD]
    x1, x2 = x[..., : HD // 2], x[..., HD // 2 :]
    return x * cos + torch.cat([-x2, x1], dim=-1) * sin


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.attn_norm = RMSNorm(D)
        self.q = torch.nn.Linear(D, H * HD, bias=False)
        self.k = torch.nn.Linear(D, HKV * HD, bias=False)
        self.v = torch.nn.Linear(D, HKV * HD, bias=False)
        self.q_norm = RMSNorm(HD)
        self.k_norm = RMSNorm(HD)
        self.o = torch.nn.Linear(H * HD, D, bias=False)
        self.mlp_norm = RMSNorm(D)
        self.gate = torch.nn.Linear(D, FF, bias=False)
        self.up = torch.nn.Linear(D, FF, bias=False)
        self.down = torch.nn.Linear(FF, D, bias=False)

    def forward(self, x, cos, sin, cache=None, start=0):
        b, t, _ = x.shape
        h = self.attn_norm(x)
        q = self.q_norm(self.q(h).view(b, t, H, HD)).transpose(1, 2)
        k = self.k_norm(self.k(h).view(b, t, HKV, HD)).transpose(1, 2)
        v = self.v(h).view(b, t, HKV, HD).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if cache is not None:
            cache[0][:, :, start : start + t] = k
            cache[1][:, :, start : start + t] = v
            k, v = cache[0][:, :, : start + t], cache[1][:, :, : start + t]
        if HKV != H:
            k = k.repeat_interleave(H // HKV, dim=1)
            v = v.repeat_interleave(H // HKV, dim=1)
        scores = q @ k.transpose(-1, -2) / HD**0.5
        if t > 1:
            total = start + t
            mask = torch.ones(t, total, dtype=torch.bool, device=DEVICE).tril(diagonal=start)
            scores = scores.masked_fill(~mask, float("-inf"))
        att = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, H * HD)
        x = x + self.o(att)
        h = self.mlp_norm(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Parameter(torch.randn(V, D) * 0.02)
        self.layers = torch.nn.ModuleList([Block() for _ in range(args.layers)])
        self.final_norm = RMSNorm(D)

    def forward(self, ids, caches=None, start=0):
        t = ids.shape[1]
        cos, sin = rope_tables(torch.arange(start, start + t, device=DEVICE))
        x = F.embedding(ids, self.embed)
        for i, layer in enumerate(self.layers):
            x = layer(x, cos, sin, None if caches is None else caches[i], start)
        return self.final_norm(x) @ self.embed.t()


def median(xs):
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


model = Model().to(DEVICE)
params = sum(p.numel() for p in model.parameters())
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
gen = torch.Generator(device=DEVICE).manual_seed(args.seed)
tokens = torch.randint(0, V, (args.batch, args.seq + 1), generator=gen, device=DEVICE)


def train_step():
    logits = model(tokens[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, V), tokens[:, 1:].reshape(-1))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.item()


@torch.inference_mode()
def sample():
    total = args.prompt + args.new
    caches = [
        (torch.zeros(args.batch, HKV, total, HD, device=DEVICE), torch.zeros(args.batch, HKV, total, HD, device=DEVICE))
        for _ in range(args.layers)
    ]
    prompt = torch.randint(0, V, (args.batch, args.prompt), generator=gen, device=DEVICE)
    logits = model(prompt, caches, 0)[:, -1]
    out = []
    for step in range(args.new):
        nxt = torch.multinomial(logits.softmax(-1), 1, generator=gen)
        out.append(nxt)
        if step + 1 < args.new:
            logits = model(nxt, caches, args.prompt + step)[:, -1]
    return torch.cat(out, dim=1)


train_step()
sample()
synchronize()
train_times, sample_times = [], []
for _ in range(args.repeats):
    start = time.perf_counter()
    train_step()
    synchronize()
    train_times.append(time.perf_counter() - start)
    start = time.perf_counter()
    sample()
    synchronize()
    sample_times.append(time.perf_counter() - start)

train_tokens = args.batch * args.seq
new_tokens = args.batch * args.new
print(
    json.dumps(
        {
            "engine": f"pytorch {torch.__version__}" + (f" cuda ({torch.cuda.get_device_name()})" if DEVICE.type == "cuda" else ""),
            "python": sys.executable,
            "threads": args.threads,
            "parameters": params,
            "config": {"vocab": V, "dModel": D, "layers": args.layers, "heads": H, "kvHeads": HKV, "ff": FF},
            "train": {
                "batch": args.batch,
                "seq": args.seq,
                "tokensPerSecond": round(train_tokens / median(train_times)),
                "samples": [round(train_tokens / t) for t in train_times],
            },
            "sample": {
                "batch": args.batch,
                "prompt": args.prompt,
                "new": args.new,
                "newTokensPerSecond": round(new_tokens / median(sample_times)),
                "samples": [round(new_tokens / t) for t in sample_times],
            },
        }
    )
)
