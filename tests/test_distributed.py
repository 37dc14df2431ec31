"""The same training runs unchanged under `accelerate launch` with two CPU processes (DDP, gloo).

accelerate's launcher starts several processes with --multi_gpu (torch.distributed.run); with
``device="cpu"`` the trainer's Accelerator then runs them as MULTI_CPU over gloo.
"""

import subprocess
import sys
import textwrap

import torch
from safetensors.torch import load_file

SCRIPT = textwrap.dedent(
    """
    import sys
    from accelerate import PartialState
    from safetensors.torch import save_file
    from workbench import Run, RunConfig

    cfg = RunConfig()
    cfg.data.max_train_examples, cfg.data.max_eval_examples, cfg.prefix.length = 128, 8, 4
    cfg.train.steps, cfg.train.lr, cfg.train.batch_size, cfg.train.warmup_steps = 8, 0.3, 8, 1
    cfg.train.eval_every, cfg.train.eval_generate, cfg.train.device = 0, 2, "cpu"
    run = Run.create(cfg)
    history = run.train()
    rank = PartialState().process_index
    prefix = {n: p.detach().contiguous() for n, p in run.trainer.unwrapped.named_parameters() if p.requires_grad}
    save_file(prefix, f"{sys.argv[1]}/rank{rank}.safetensors")
    assert history.last_step == 8 and run.trainer.accelerator.num_processes == 2
    """
)


def test_two_process_ddp_keeps_one_prefix(tmp_path):
    script = tmp_path / "ddp_train.py"
    script.write_text(SCRIPT)
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--num_processes", "2", "--num_machines", "1",
           "--mixed_precision", "no", "--dynamo_backend", "no", "--multi_gpu", str(script), str(tmp_path)]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [load_file(str(tmp_path / f"rank{r}.safetensors")) for r in (0, 1)]
    assert ranks[0].keys() == ranks[1].keys() and ranks[0]
    for name in ranks[0]:
        # each rank saw different rows of every batch; equal prefixes mean DDP averaged the gradients
        assert torch.equal(ranks[0][name], ranks[1][name]), name


def test_each_process_takes_its_own_share_of_every_batch(make_config):
    # What DDP relies on: the two ranks' rows of a batch are disjoint and together make the one-process batch.
    import itertools
    import types

    import torch

    from workbench import Run

    trainer = Run.create(make_config(train={"batch_size": 8})).trainer

    def rows(rank: int, world: int) -> list[list[tuple[int, ...]]]:
        trainer.accelerator = types.SimpleNamespace(process_index=rank, num_processes=world,
                                                    device=torch.device("cpu"))  # fmt: skip
        batches = [b for b, _ in itertools.islice(trainer._batches(), 3)]
        return [[tuple(r[m.bool()].tolist()) for r, m in zip(b["input_ids"], b["attention_mask"])] for b in batches]

    whole, first, second = rows(0, 1), rows(0, 2), rows(1, 2)
    for w, a, b in zip(whole, first, second):
        assert len(a) == len(b) == 4 and not set(a) & set(b) and sorted(a + b) == sorted(w)
