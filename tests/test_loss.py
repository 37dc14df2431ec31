"""A decoder's loss from the logits of learned positions only: transformers' loss, for less work."""

from __future__ import annotations

import pytest
import torch

from workbench import Run
from workbench.data import Collator
from workbench.loss import batch_loss


@pytest.mark.parametrize("model", ["tiny-llama", "tiny-gpt2", "tiny-gemma", "tiny-opt", "tiny-gpt-neox"])
def test_the_loss_and_its_gradient_are_transformers_own(make_config, model):
    run = Run.create(make_config(model))
    peft_model, (train, _) = run.live_model.eval(), run.splits  # no dropout: two forwards compare
    batch = Collator(run.tokenizer.pad_token_id)(train.features[:6])
    rows = []
    head = peft_model.get_base_model().get_output_embeddings()
    handle = head.register_forward_hook(lambda _m, args, _o: rows.append(args[0].shape[1]))
    ours = batch_loss(peft_model, batch, run.objective)
    handle.remove()
    (grad,) = torch.autograd.grad(ours, [p for p in peft_model.parameters() if p.requires_grad][:1])
    theirs = peft_model(**batch).loss
    (their_grad,) = torch.autograd.grad(theirs, [p for p in peft_model.parameters() if p.requires_grad][:1])
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-5)
    assert torch.allclose(grad, their_grad, rtol=1e-4, atol=1e-7)
    learned = int((batch["labels"][:, 1:] != -100).any(0).sum())
    assert rows == [learned] and learned < batch["input_ids"].shape[1]  # the prompt's positions were skipped


def test_heads_encoder_decoders_and_prompt_tuning_take_the_models_own_loss(make_config):
    from peft import PromptTuningConfig, TaskType, get_peft_model

    from workbench.models import load_model

    for model, dataset in (("tiny-bert", "toy-sentiment"), ("tiny-t5", "toy-e2e")):
        run = Run.create(make_config(model, dataset))
        batch = Collator(run.tokenizer.pad_token_id)(run.splits[0].features[:4])
        model_ = run.live_model.eval()
        assert batch_loss(model_, batch, run.objective).item() == model_(**batch).loss.item()
    run = Run.create(make_config("tiny-llama"))
    base = load_model(run.config.model, "text").model
    prompt = get_peft_model(base, PromptTuningConfig(task_type=TaskType.CAUSAL_LM, num_virtual_tokens=3)).eval()
    batch = Collator(run.tokenizer.pad_token_id)(run.splits[0].features[:4])
    assert batch_loss(prompt, batch, run.objective).item() == prompt(**batch).loss.item()  # positions would move


@pytest.mark.parametrize(("model", "dataset"), [("tiny-llama", "toy-e2e"), ("tiny-t5", "toy-e2e"),
                                                ("tiny-bert", "toy-sentiment"), ("tiny-bert", "toy-ner"),
                                                ("tiny-bert", "stars")])  # fmt: skip
def test_row_losses_are_each_rows_own_loss_and_add_up_to_the_batchs(make_config, tmp_path, model, dataset):
    from workbench.loss import row_losses

    if dataset == "stars":  # a regression head: transformers' squared error, row by row
        import user_files

        dataset = str(user_files.write(tmp_path / "stars.csv", user_files.stars()))
    columns = {"text": "review", "label": "stars"} if "stars" in dataset else {}
    run = Run.create(make_config(model, dataset, data={"columns": columns}))
    assert run.objective.name == {"toy-e2e": "causal-lm" if model == "tiny-llama" else "seq2seq", "toy-sentiment":
                                  "seq-cls", "toy-ner": "token-cls"}.get(dataset, "seq-reg")  # fmt: skip
    model_, collate = run.live_model.eval(), Collator(run.tokenizer.pad_token_id)
    features = run.splits[1].features[:5]
    with torch.no_grad():
        sums, counts = row_losses(model_, collate(features), run.objective)
        whole = batch_loss(model_, collate(features), run.objective).item()
        assert (sums.sum() / counts.sum()).item() == pytest.approx(whole, rel=1e-5)
        alone = [batch_loss(model_, collate([f]), run.objective).item() for f in features]  # each row in a batch of one
    assert (sums / counts).tolist() == pytest.approx(alone, rel=1e-4)
    assert len(set(alone)) > 1  # rows differ: the test can tell them apart
