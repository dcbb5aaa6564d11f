from zoo.reproduce import list_entries


def test_nlp_entries_are_in_the_quick_suite():
    names = {e.name for e in list_entries("quick", "nlp-*")}
    assert names == {"nlp-word2vec-sg-lee", "nlp-sentencepiece-bpe-roundtrip", "nlp-text-classifier-word2vec"}


def test_sentencepiece_entry_reaches_its_reference(tmp_path):
    (entry,) = list_entries("quick", "nlp-sentencepiece-*")
    out = entry.fn(str(tmp_path))
    assert out["value"] >= entry.reference and out["unk_ids"] == 0
    assert out["chars_per_token_held_out"] > 2
    assert (tmp_path / "sentencepiece_python_docs.json").exists()
