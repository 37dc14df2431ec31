"""The workbench changes nothing in the user's process that the user's own transformers code would see."""

from __future__ import annotations

import os

import pytest


def _what_a_user_sees() -> dict:
    from huggingface_hub import constants
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS

    return {
        "env": {k: v for k, v in os.environ.items() if k.startswith(("HF_", "TRANSFORMERS_"))},
        "timeouts": (constants.HF_HUB_ETAG_TIMEOUT, constants.HF_HUB_DOWNLOAD_TIMEOUT),
        "attention": sorted(AttentionInterface._global_mapping),
        "masks": sorted(ALL_MASK_ATTENTION_FUNCTIONS._global_mapping),
    }


def test_a_run_and_an_analysis_leave_the_users_transformers_as_they_were(make_config):
    before = _what_a_user_sees()
    import workbench as wb
    from workbench.models import load_model  # the module that once set HF_HUB_* variables at import

    assert load_model
    run = wb.Run.create(make_config("tiny-demo", train={"steps": 3}))
    run.train()
    analysis = wb.analyse(run, rows=8, metric_rows=0)
    assert analysis.slots is not None
    assert _what_a_user_sees() == before


def test_the_panels_caches_keep_the_latest_and_clear(make_config):
    from workbench.ui.loader import MAX_DATA, Loader

    loader = Loader(lambda: None)
    cfg = make_config()
    for seed in range(MAX_DATA + 2):
        cfg.train.seed = seed
        loader.data(cfg)
    assert len(loader._datas) == MAX_DATA and list(loader._datas)[-1][-1] == MAX_DATA + 1  # the newest kept
    loader.clear()
    assert not loader._datas and not loader._bases


@pytest.mark.slow  # fresh interpreters: in `make test`, not `make test-quick`
def test_importing_the_workbench_sets_no_environment_variables():
    import subprocess
    import sys

    script = ("import os; before = dict(os.environ); import workbench, workbench.models.loading, workbench.ui; "
              "print(sorted(set(os.environ.items()) ^ set(before.items())))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-1000:]
    assert done.stdout.strip() == "[]"


_ACCELERATE = """
import warnings; warnings.simplefilter("ignore")
from accelerate import Accelerator
import workbench as wb
from workbench.errors import TrainingError

def run(precision):
    cfg = wb.RunConfig()
    cfg.data.max_train_examples, cfg.data.max_eval_examples = 32, 4
    cfg.train.steps, cfg.train.warmup_steps, cfg.train.eval_generate, cfg.train.precision = 2, 0, 0, precision
    return wb.Run.create(cfg).train().ends[-1].reason

if {users}:
    mine = Accelerator(cpu=True, mixed_precision="bf16")
    try:
        run("fp32")
    except TrainingError as exc:
        print("refused:", exc)
    print("mine:", mine.mixed_precision, mine.state.mixed_precision)
    print("same precision:", run("bf16"))
else:
    print("switching:", run("bf16"), run("fp32"), run("bf16"))
"""


@pytest.mark.slow  # fresh interpreters: in `make test`, not `make test-quick`
def test_the_workbench_resets_only_an_accelerate_state_it_set_up_itself():
    import subprocess
    import sys

    def python(users: bool) -> list[str]:
        done = subprocess.run([sys.executable, "-c", _ACCELERATE.format(users=users)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout.splitlines()

    refused, mine, same = python(users=True)
    assert refused.startswith("refused: this process already runs accelerate with mixed precision 'bf16'")
    assert mine == "mine: bf16 bf16" and same == "same precision: completed"
    assert python(users=False) == ["switching: completed completed completed"]


def test_quiet_turns_off_every_loaded_librarys_bars_until_the_last_block_in_any_thread_ends():
    import threading

    import datasets
    from transformers.utils import logging as hf_logging

    from workbench.quiet import quiet

    def bars() -> tuple[bool, bool]:
        return datasets.is_progress_bar_enabled(), hf_logging.is_progress_bar_enabled()

    datasets.enable_progress_bars()  # a user's setting: bars on
    hf_logging.enable_progress_bar()
    entered, leave = threading.Event(), threading.Event()

    def other_thread() -> None:
        with quiet():
            entered.set()
            leave.wait(10)

    worker = threading.Thread(target=other_thread)
    with quiet():
        assert bars() == (False, False)
        worker.start()
        entered.wait(10)
    assert bars() == (False, False)  # the other thread's block is still open (a preview loading data)
    leave.set()
    worker.join()
    assert bars() == (True, True)
    datasets.disable_progress_bars()  # the user's own choice stays as it is
    with quiet():
        pass
    assert bars() == (False, True)
    datasets.enable_progress_bars()
