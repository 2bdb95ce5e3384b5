"""PyTorch reference for `bun run bench model --model-shape NAME --vs-torch`: the same random
Hugging Face folder (written by the TypeScript side) loaded with transformers' Qwen3ForCausalLM
in float32, and the same measurements: load time and memory, KV-cache sampling new tokens/s
(batch prompts, `new` sampled tokens each), LoRA training tokens/s (peft, rank r on q/k/v/o/gate/
up/down, AdamW) and full training tokens/s (forward + backward + an SGD step: AdamW's two
moments would add another 4.8 GB for Qwen3-0.6B). Prints one JSON object. A benchmark only;
nothing in the project imports torch.

    python bench/qwen3_torch_reference.py --folder DIR [--threads 2] [--repeats 2] ...
"""

import argparse
import json
import sys
import time

from torch_setup import import_torch

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--folder", required=True)
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--repeats", type=int, default=2)
parser.add_argument("--batch", type=int, default=8)
parser.add_argument("--prompt", type=int, default=64)
parser.add_argument("--new", type=int, default=64)
parser.add_argument("--train-rows", type=int, default=2)
parser.add_argument("--train-tokens", type=int, default=64)
parser.add_argument("--lora-rank", type=int, default=8)
args = parser.parse_args()

torch, transformers, peft = import_torch(args.threads, "transformers", "peft")
from peft import LoraConfig, get_peft_model  # noqa: E402
from transformers import AutoModelForCausalLM  # noqa: E402
torch.manual_seed(0)


def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


start = time.perf_counter()
model = AutoModelForCausalLM.from_pretrained(args.folder, dtype=torch.float32)
load_seconds = time.perf_counter() - start
memory_after_load = rss()
parameters = sum(p.numel() for p in model.parameters())

prompts = torch.randint(1000, 20000, (args.batch, args.prompt))
sample_times = []
for r in range(args.repeats + 1):
    start = time.perf_counter()
    with torch.no_grad():
        out = model.generate(
            prompts, attention_mask=torch.ones_like(prompts), do_sample=True, temperature=1.0, top_k=0, top_p=1.0,
            max_new_tokens=args.new, min_new_tokens=args.new, pad_token_id=0,
        )
    if r > 0:
        sample_times.append(time.perf_counter() - start)
    assert out.shape[1] == args.prompt + args.new

ids = torch.randint(1000, 20000, (args.train_rows, 16 + args.train_tokens))
labels = ids.clone()
labels[:, :16] = -100


def train(model, optimizer):
    times = []
    for r in range(args.repeats + 1):
        start = time.perf_counter()
        loss = model(input_ids=ids, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if r > 0:
            times.append(time.perf_counter() - start)
    return times


full_times = train(model, torch.optim.SGD(model.parameters(), lr=1e-6))
memory_after_full = rss()
lora = get_peft_model(
    model,
    LoraConfig(r=args.lora_rank, lora_alpha=2 * args.lora_rank, lora_dropout=0.0,
               target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]),
)
trainable = sum(p.numel() for p in lora.parameters() if p.requires_grad)
lora_times = train(lora, torch.optim.AdamW([p for p in lora.parameters() if p.requires_grad], lr=1e-4))
tokens = args.train_rows * args.train_tokens
print(
    json.dumps(
        {
            "engine": f"torch {torch.__version__}, transformers {transformers.__version__}, peft {peft.__version__} ({args.threads} threads)",
            "python": sys.executable,
            "parameters": parameters,
            "loadSeconds": load_seconds,
            "rssAfterLoadBytes": memory_after_load,
            "sample": {"batch": args.batch, "promptTokens": args.prompt, "newTokens": args.new,
                       "tokensPerSecond": args.batch * args.new / median(sample_times), "secondsAll": sample_times},
            "trainFull": {"optimizer": "sgd", "rows": args.train_rows, "tokens": tokens,
                          "tokensPerSecond": tokens / median(full_times), "secondsAll": full_times, "rssAfterBytes": memory_after_full},
            "trainLora": {"rank": args.lora_rank, "trainableParameters": trainable, "rows": args.train_rows, "tokens": tokens,
                          "tokensPerSecond": tokens / median(lora_times), "secondsAll": lora_times, "rssAfterBytes": rss()},
        }
    )
)
