"""Token labels read as text for word-level, byte-level BPE and SentencePiece-style vocabularies, in any script."""

from __future__ import annotations

import user_files as uf
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from workbench.models import word_tokenizer
from workbench.tokens import CONTINUES, token_labels


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


def _chinese_byte_level(vocab_size: int = 320) -> PreTrainedTokenizerFast:
    rows = uf.chinese_records()
    return uf.byte_level_tokenizer([t for r in rows for t in r.values()], vocab_size=vocab_size)


def _byte_fallback() -> PreTrainedTokenizerFast:
    # SentencePiece-style with byte fallback (Llama 2, Gemma): a character not in the vocabulary is <0xNN> pieces.
    vocab = {"<unk>": 0, **{f"<0x{b:02X}>": b + 1 for b in range(256)}, "▁a": 257}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[], byte_fallback=True, unk_token="<unk>"))
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()])
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>")


def test_chinese_through_byte_level_bpe_reads_as_characters_one_label_per_token():
    tok = _chinese_byte_level()
    text = "金龙是一家位于河边的川菜餐厅，价格便宜。 It is 中文"
    ids = tok(text)["input_ids"]
    labels = token_labels(tok, ids)
    assert len(labels) == len(ids) and not [x for x in labels if "\ufffd" in x], labels
    assert any(x.startswith(CONTINUES) for x in labels)  # some characters were split: the case at hand
    # Each character is labelled once, on the token where it begins: those labels read back as the text.
    assert "".join(x for x in labels if not x.startswith(CONTINUES)).replace("␣", " ") == text


def test_a_character_in_byte_pieces_is_the_character_then_its_continuations():
    tok = _chinese_byte_level(vocab_size=257)  # bytes only: every Chinese character is three tokens
    ids = tok("中文")["input_ids"]
    assert token_labels(tok, ids) == ["中", "↳中", "↳中", "文", "↳文", "↳文"]
    sp = _byte_fallback()
    ids = sp("中a", add_special_tokens=False)["input_ids"]
    assert sp.convert_ids_to_tokens(ids)[:3] == ["<0xE4>", "<0xB8>", "<0xAD>"]
    assert token_labels(sp, ids) == ["中", "↳中", "↳中", "a"]


def test_pieces_that_cannot_be_joined_show_their_bytes():
    tok = _chinese_byte_level(vocab_size=257)
    ids = tok("中文")["input_ids"]
    assert token_labels(tok, ids[:2]) == ["\\xe4", "\\xb8"]  # a text cut off mid-character
    assert token_labels(tok, ids, sequence=False)[:3] == ["\\xe4", "\\xb8", "\\xad"]  # unrelated tokens: alone
    assert token_labels(_byte_fallback(), [0xE4 + 1], sequence=False) == ["\\xe4"]
