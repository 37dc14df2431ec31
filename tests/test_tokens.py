"""Token labels read as text for word-level, byte-level BPE and SentencePiece-style vocabularies."""

from __future__ import annotations

from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from workbench.models import word_tokenizer
from workbench.tokens import token_labels


def _byte_level() -> PreTrainedTokenizerFast:
    # A byte-level BPE vocabulary of my own, as GPT-2 and SmolLM keep theirs: "Ġ" for a space, "Ċ" for a newline.
    vocab = {"The": 0, "ĠEagle": 1, "Ċ": 2, "Ġis": 3, "<|end|>": 4}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|end|>")


def _sentencepiece_style() -> PreTrainedTokenizerFast:
    vocab = {"▁The": 0, "▁Eagle": 1, "s": 2, "</s>": 3}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="</s>"))
    tok.decoder = decoders.Metaspace()
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="</s>")


def test_byte_level_pieces_read_as_text_with_visible_whitespace():
    assert token_labels(_byte_level(), [0, 1, 2, 3, 4]) == ["The", "␣Eagle", "⏎", "␣is", "<|end|>"]


def test_sentencepiece_pieces_read_as_text():
    assert token_labels(_sentencepiece_style(), [0, 1, 2, 3]) == ["␣The", "␣Eagle", "s", "</s>"]


def test_word_level_tokens_are_unchanged():
    tok = word_tokenizer()
    ids = tok("name[Aromi] food[Italian]", add_special_tokens=False)["input_ids"]
    assert token_labels(tok, ids) == tok.convert_ids_to_tokens(ids)
