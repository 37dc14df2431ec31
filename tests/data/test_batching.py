"""Epoch batches: seeded, every row once, and grouped by length without losing the shuffle."""

from __future__ import annotations

import random
import threading

import pytest

from workbench import Run
from workbench.data.batching import epoch_batches, padded_tokens, padding_share, row_length, shortest_first


@pytest.fixture
def lengths():
    rng = random.Random(0)
    return [rng.randint(10, 60) for _ in range(1000)]


@pytest.mark.parametrize("by_length", [False, True])
def test_an_epoch_deals_every_row_once_the_same_way_for_the_same_seed_and_epoch(lengths, by_length):
    batches = epoch_batches(lengths, 8, seed=3, epoch=2, by_length=by_length)
    assert len(batches) == 125 and all(len(b) == 8 for b in batches)
    assert sorted(i for b in batches for i in b) == list(range(1000))
    assert batches == epoch_batches(lengths, 8, seed=3, epoch=2, by_length=by_length)
    assert batches != epoch_batches(lengths, 8, seed=3, epoch=3, by_length=by_length)


def test_grouping_cuts_the_padding_and_keeps_the_batches_in_random_order(lengths):
    plain = epoch_batches(lengths, 8, seed=0, epoch=0)
    grouped = epoch_batches(lengths, 8, seed=0, epoch=0, by_length=True)
    assert padding_share(lengths, plain) > 0.25 and padding_share(lengths, grouped) < 0.05
    longest = [max(lengths[i] for i in b) for b in grouped]
    assert longest != sorted(longest) and longest != sorted(longest, reverse=True)  # not a length ramp
    # Rows meet different rows in different epochs.
    again = epoch_batches(lengths, 8, seed=0, epoch=1, by_length=True)
    assert {tuple(sorted(b)) for b in grouped} != {tuple(sorted(b)) for b in again}


def test_without_grouping_the_order_is_the_seeded_permutation(lengths):
    import torch

    order = torch.randperm(1000, generator=torch.Generator().manual_seed(5 * 1_000_003)).tolist()
    assert [i for b in epoch_batches(lengths, 10, seed=5, epoch=0) for i in b] == order


def test_fewer_rows_than_a_batch_make_one_batch():
    assert sorted(epoch_batches([3, 1, 2], 8, seed=0, epoch=0, by_length=True)[0]) == [0, 1, 2]


def test_a_row_counts_its_inputs_and_its_label_sequence():
    assert row_length({"input_ids": [1, 2, 3], "labels": [-100, 2, 3]}) == 6
    assert row_length({"input_ids": [1, 2, 3], "labels": 1}) == 3  # a class label


def test_training_grouped_by_length_learns_and_resumes_where_it_stopped(make_config):
    config = make_config("tiny-gpt2", train={"steps": 12})  # grouped by length: the default
    whole = Run.create(config)
    whole.train()
    split, stop = Run.create(config), threading.Event()
    split.train([lambda event: event.kind == "step" and event.step == 5 and stop.set()], stop=stop)
    split.train()  # continues with the batch after the 5th
    assert whole.history.losses() == split.history.losses()  # the same batches after a pause
    assert whole.history.losses()[-1] < whole.history.losses()[0]


def test_evaluation_batches_every_row_once_shortest_first_ties_in_order():
    lengths = [5, 2, 9, 2, 7]
    assert shortest_first(lengths, 2) == [[1, 3], [0, 4], [2]]
    assert padded_tokens(lengths, shortest_first(lengths, 2)) == 2 * 2 + 7 * 2 + 9
