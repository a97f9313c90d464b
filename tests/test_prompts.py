import re

import pytest

from annotator.core.errors import ConfigurationError
from annotator.extract.llm.prompts import available_prompts, load_prompt

VALUES = {
    "article": "ARTICLE TEXT",
    "title": "T",
    "outlet": "O",
    "claims": "1. x",
    "claim": "C",
    "text": "TEXT",
    "headline": "H",
    "body": "B",
    "statement_a": "SA",
    "statement_b": "SB",
}


def test_prompt_files_are_versioned() -> None:
    names = available_prompts()
    assert "extract_v1" in names and "requote_v1" in names
    for name in names:
        assert re.fullmatch(r"[a-z_]+_v\d+", name)
        prompt = load_prompt(name)
        assert prompt.version == int(name.rsplit("_v", 1)[1])
        assert len(prompt.sha256) == 64


@pytest.mark.parametrize("name", available_prompts())
def test_every_prompt_renders_with_article_inside_delimiters(name: str) -> None:
    prompt = load_prompt(name)
    messages = prompt.render(**VALUES)
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "${" not in messages[0]["content"] + messages[1]["content"]


@pytest.mark.parametrize("name", available_prompts())
def test_few_shot_quotes_appear_verbatim_in_their_example_text(name: str) -> None:
    prompt = load_prompt(name)
    for example in prompt.examples:
        for quote in example.get("quotes", []):
            assert quote in example["text"], f"{name}: {quote!r} not in its example text"
            # and the worked example shown to the model is that same text
            assert quote in prompt.system or quote.replace("\n", "\\n") in prompt.system


def test_missing_value_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="needs a value for 'article'"):
        load_prompt("extract_v1").render(title="t", outlet="o")


def test_bad_prompt_name_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        load_prompt("../secrets")
