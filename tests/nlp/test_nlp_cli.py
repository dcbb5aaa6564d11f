"""``python -m nlp`` end to end: each command in a subprocess on a tiny corpus, its output checked against the
library's own answers; bad arguments exit 2 with one line. Variations run in-process through ``cli.main``."""

import os
import random
import re
import subprocess
import sys

import numpy as np
import pytest

import nlp
from nlp import cli

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAIRS = [("boy", "girl"), ("brother", "sister"), ("father", "mother"), ("king", "queen"), ("man", "woman"),
         ("he", "she"), ("his", "her"), ("son", "daughter")]
ANIMALS = ["tiger", "cat", "jaguar", "animal", "zoo", "mammal"]
TEXT = "the king and the queen saw a zebra"  # 'zebra' needs pieces the corpus lacks (bytes)
W2V = ["--min-count", "1", "--epochs", "2", "--vector-size", "16"]  # tiny word2vec settings


def start(*args):
    """``python -m nlp ARGS`` started in a subprocess of this checkout (they run side by side: each imports TF)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    env.pop("DLZOO_VERBOSE", None)
    return subprocess.Popen([sys.executable, "-m", "nlp", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)


def finish(runs):
    """{name: (returncode, stdout, stderr)} of the started subprocesses ``runs`` ({name: Popen})."""
    results = {}
    for name, proc in runs.items():
        stdout, stderr = proc.communicate(timeout=300)
        results[name] = (proc.returncode, stdout, stderr)
    return results


def call(capsys, *args):
    """``cli.main(ARGS)`` in this process; (exit status, stdout, stderr)."""
    try:
        rc = cli.main([str(a) for a in args])
    except SystemExit as stop:  # argparse: --help, or a bad argument
        rc = stop.code
    out, err = capsys.readouterr()
    return rc, out, err


def rows(stdout):
    """The ``rank word score`` lines of similar/analogy."""
    return [(line.split()[1], line.split()[2]) for line in stdout.splitlines()[1:]]


def expected_rows(results):
    return [(w, f"{s:.4f}") for w, s in results]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A folder with a 300-line corpus (family words and animals, some in wordsim353 and questions-words.txt)."""
    folder = tmp_path_factory.mktemp("nlpcli")
    r = random.Random(0)
    lines = []
    for _ in range(300):
        m, f = r.choice(PAIRS)
        lines.append(f"the {m} and the {f} saw a {r.choice(ANIMALS)} near the {r.choice(ANIMALS)} at the zoo today")
    (folder / "corpus.txt").write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture(scope="module")
def trained(work):
    """train-tokenizer and train-vectors (word2vec), side by side in subprocesses."""
    return finish({
        "tokenizer": start("train-tokenizer", work / "corpus.txt", "--vocab-size", 300, "--out", work / "tok.json"),
        "vectors": start("train-vectors", work / "corpus.txt", *W2V, "--out", work / "w2v.npz"),
    })


@pytest.fixture(scope="module")
def vectors(work, trained):
    rc, _, stderr = trained["vectors"]
    assert rc == 0, stderr
    return work / "w2v.npz"


@pytest.fixture(scope="module")
def used(work, trained, vectors):
    """encode, similar, analogy, evaluate and a word outside the vocabulary, side by side in subprocesses."""
    rc, _, stderr = trained["tokenizer"]
    assert rc == 0, stderr
    return finish({
        "encode": start("encode", work / "tok.json", TEXT),
        "similar": start("similar", vectors, "king", "--topn", 3),
        "analogy": start("analogy", vectors, "man", "king", "woman"),
        "evaluate": start("evaluate", vectors),
        "unknown": start("similar", vectors, "kinng"),
    })


def test_train_tokenizer_then_encode_round_trip(work, trained, used):
    out = work / "tok.json"
    rc, stdout, stderr = trained["tokenizer"]
    assert (rc, stderr) == (0, "")  # quiet: no TensorFlow or SentencePiece logs
    lines = stdout.splitlines()
    assert re.fullmatch(r"bpe tokenizer: 300 pieces from 300 sentences of .*corpus\.txt in \d+\.\d s", lines[0])
    assert lines[1] == f"saved {out}: JSON (nlp.Tokenizer.load reads it)" and len(lines) == 2
    tok = nlp.Tokenizer.load(str(out))
    assert tok.vocab_size == 300

    rc, stdout, stderr = used["encode"]
    assert (rc, stderr) == (0, "")
    pieces, ids = stdout.splitlines()
    ids = [int(i) for i in ids.removeprefix("ids: ").split()]
    assert ids == tok.encode(TEXT)
    assert pieces.removeprefix("pieces: ").split(" ") == [tok.id_to_token(i) for i in ids]
    assert tok.decode(ids) == TEXT


def test_train_vectors_prints_progress_and_saves_the_model(trained, vectors):
    rc, stdout, stderr = trained["vectors"]
    lines = stdout.splitlines()
    assert re.fullmatch(r"word2vec: 28 words x 16 dimensions from 4,200 tokens \(300 documents of .*corpus\.txt\), "
                        r"2 epochs in \d+\.\d s \([\d,]+ words/s\)", lines[0])
    assert lines[1].startswith(f"saved {vectors}: dlzoo's .npz: the whole model, reloads losslessly") and len(lines) == 2
    progress = stderr.splitlines()  # progress only: one line per epoch
    assert len(progress) == 2 and all(re.fullmatch(rf"Word2Vec: epoch {e}/2: .* words/s", line)
                                       for e, line in zip((1, 2), progress)), stderr
    model = nlp.Word2Vec.load(str(vectors))
    assert (len(model.words), model.vector_size, model.epochs, model.min_count) == (28, 16, 2, 1)


def test_similar_and_analogy_print_the_library_answers(vectors, used):
    wv = nlp.Word2Vec.load(str(vectors)).wv
    rc, stdout, stderr = used["similar"]
    assert (rc, stderr) == (0, "")
    assert stdout.splitlines()[0] == "nearest to 'king' of 28 words (cosine similarity):"
    assert rows(stdout) == expected_rows(wv.most_similar("king", topn=3))

    rc, stdout, stderr = used["analogy"]
    assert (rc, stderr) == (0, "")
    assert stdout.splitlines()[0] == "man : king :: woman : ?  (3CosAdd over 28 words)"
    assert rows(stdout) == expected_rows(wv.analogy("man", "king", "woman", topn=5))


def test_evaluate_on_gensims_wordsim353_and_questions_words(vectors, used):
    from nlp.corpora import _gensim_test_file

    wv = nlp.Word2Vec.load(str(vectors)).wv
    pairs = wv.evaluate_word_pairs(_gensim_test_file("wordsim353.tsv"))
    analogies = wv.evaluate_analogies(_gensim_test_file("questions-words.txt"))
    assert pairs["pairs"] >= 3 and analogies["total"] > 0  # the corpus was built to reach both
    rc, stdout, stderr = used["evaluate"]
    assert (rc, stderr) == (0, "")
    assert stdout.splitlines() == [
        f"word pairs wordsim353.tsv: Spearman {pairs['spearman']:.4f}, Pearson {pairs['pearson']:.4f} "
        f"({pairs['pairs']} pairs; {100 * pairs['oov_ratio']:.1f}% out of vocabulary)",
        f"analogies questions-words.txt: accuracy {analogies['accuracy']:.4f} ({analogies['correct']} of "
        f"{analogies['total']} questions; {analogies['skipped']:,} skipped: a word out of vocabulary)",
        f"  family: {analogies['sections']['family']:.4f}",
    ]


def test_a_word_outside_the_vocabulary_exits_2_with_one_line(vectors, used):
    rc, stdout, stderr = used["unknown"]
    assert (rc, stdout) == (2, "")
    assert stderr == (f"python -m nlp similar: error: invalid WORD='kinng': not in the vocabulary of 28 words of "
                      f"{vectors}; did you mean king?\n")


BAD = [  # (arguments, what the one line says); {c}: the corpus, {v}: the vectors, {o}: an output path
    (["train-tokenizer", "nosuch", "--out", "{o}.json"],
     "argument CORPUS: 'nosuch' is neither a built-in corpus nor a file; expected one of python-docs, lee-background "
     "or a text file (one document per line)"),
    (["train-tokenizer", "{c}", "--model-type", "bp", "--out", "{o}.json"],
     "argument --model-type: invalid choice: 'bp' (choose from 'bpe', 'unigram')"),
    (["train-tokenizer", "{c}", "--vocab-size", "0", "--out", "{o}.json"],
     "argument --vocab-size: invalid value '0'; expected an integer >= 1"),
    (["train-tokenizer", "{c}"], "the following arguments are required: --out"),
    (["train-tokenizer", "{c}", "--vocab-size", "5000", "--out", "{o}.json"],
     "invalid --vocab-size=5000: this corpus supports at most 467 pieces for --model-type='bpe'. Pass "
     "--vocab-size<=467, more text, or --soft-vocab-limit to make --vocab-size an upper bound"),
    (["encode", "{o}.json", "hi"], "argument FILE: no such file '{o}.json'; expected a tokenizer file"),
    (["train-vectors", "{c}", "--algo", "glove", "--negative", "3", "--out", "{o}.npz"],
     "invalid --negative=3 with --algo glove; it applies to --algo word2vec or fasttext"),
    (["train-vectors", "{c}", "--algo", "w2v", "--out", "{o}.npz"],
     "argument --algo: invalid choice: 'w2v' (choose from 'word2vec', 'glove', 'fasttext')"),
    (["train-vectors", "{c}", "--out", "{o}.pkl"],
     "argument --out: invalid suffix of '{o}.pkl'; expected a path ending in .npz, .txt, .vec, .bin"),
    (["train-vectors", "{c}", "--min-count", "100000", "--out", "{o}.npz"],
     "--min-count=100000 leaves no word: the most frequent word occurs 1200 times in 4200 words"),
    (["train-vectors", "{c}", "--algo", "fasttext", "--min-n", "4", "--max-n", "3", "--out", "{o}.npz"],
     "invalid --max-n=3; expected an integer >= 4"),
    (["train-vectors", "{c}", "--fvocab", "{o}.vocab", "--out", "{o}.npz"],
     "invalid --fvocab={o}.vocab with --out {o}.npz: the .npz holds the counts; --fvocab goes with a word2vec"),
    (["train-vectors", "{c}", "--sample", "-1", "--out", "{o}.npz"],
     "argument --sample: invalid value '-1'; expected a number >= 0"),
    (["analogy", "{v}", "man", "King", "wman"], "invalid B='King': not in the vocabulary of 28 words of {v}; "
                                                 "did you mean king?"),
    (["similar", "{c}", "king"], "invalid word2vec header"),
    (["evaluate", "{v}", "--analogies", "{o}.txt"], "argument --analogies: no such file '{o}.txt'"),
    ([], "the following arguments are required: COMMAND"),
]


@pytest.mark.parametrize("argv, message", BAD, ids=[" ".join(a[:1] + a[2:4]) or "none" for a, _ in BAD])
def test_bad_arguments_exit_2_with_one_line_naming_them(work, vectors, capsys, argv, message):
    where = dict(c=work / "corpus.txt", v=vectors, o=work / "absent")
    rc, stdout, stderr = call(capsys, *[a.format(**where) for a in argv])
    command = f"python -m nlp {argv[0]}" if argv else "python -m nlp"
    assert (rc, stdout) == (2, "")
    assert stderr.startswith(f"{command}: error: ") and stderr.count("\n") == 1, stderr
    assert message.format(**where) in stderr
    assert not [p for p in os.listdir(work) if p.startswith("absent")]  # nothing written


def test_help_shows_the_defaults(capsys):
    rc, out, _ = call(capsys, "train-vectors", "--help")
    out = " ".join(out.split())
    assert rc == 0
    for text in ("--algo {word2vec,glove,fasttext} algorithm (default: word2vec)",
                 "--window N context words on each side of a word (default: 5 for word2vec, fasttext; 10 for glove)",
                 "--bucket N [fasttext] hash buckets (rows) of the n-gram vectors (default: 2,000,000)",
                 "--arch {skipgram,cbow} [word2vec, fasttext] skipgram or cbow (default: skipgram)"):
        assert text in out
    rc, out, _ = call(capsys, "train-tokenizer", "--help")
    out = " ".join(out.split())
    assert "--model-type {bpe,unigram} subword algorithm (default: bpe)" in out
    assert "(default: 8000)" in out and "--unit {documents,paragraphs,sentences,lines}" in out


def test_unigram_model_proto_and_word2vec_binary_outputs(work, vectors, capsys):
    import sentencepiece as spm

    out = work / "uni.model"
    rc, stdout, _ = call(capsys, "train-tokenizer", work / "corpus.txt", "--model-type", "unigram",
                         "--vocab-size", 290, "--out", out)
    assert rc == 0 and stdout.startswith("unigram tokenizer: 290 pieces")
    assert spm.SentencePieceProcessor(model_file=str(out)).get_piece_size() == 290  # sentencepiece's own file
    assert nlp.Tokenizer.load(str(out)).vocab_size == 290

    binary, vocab = work / "w2v.bin", work / "w2v.vocab"  # same settings and seed as the .npz: the same vectors
    rc, stdout, _ = call(capsys, "train-vectors", work / "corpus.txt", *W2V, "--out", binary, "--fvocab", vocab)
    assert rc == 0 and "word2vec binary format" in stdout and f"saved {vocab}: the counts" in stdout
    a, b = nlp.Word2Vec.load(str(vectors)).wv, nlp.load_word2vec_format(str(binary), fvocab=str(vocab))
    assert a.words == b.words and np.array_equal(a.vectors, b.vectors) and a.counts == b.counts


def test_analogy_top_1(vectors, capsys):
    rc, stdout, _ = call(capsys, "analogy", vectors, "man", "king", "woman", "--topn", 1)
    assert rc == 0 and [w for w, _ in rows(stdout)] == [nlp.Word2Vec.load(str(vectors)).wv.analogy("man", "king", "woman")]


def test_fasttext_and_glove(work, capsys):
    ft = work / "ft.npz"
    rc, stdout, err = call(capsys, "train-vectors", work / "corpus.txt", "--algo", "fasttext", "--bucket", 500,
                           *W2V[:-1], 8, "--epochs", 1, "--out", ft)
    assert rc == 0 and stdout.startswith("fasttext: 28 words x 8 dimensions") and "FastText: epoch 1/1" in err
    rc, stdout, err = call(capsys, "similar", ft, "kingly", "--topn", 2)  # not in the vocabulary: its n-grams
    assert rc == 0 and err == "note: 'kingly' is not in the vocabulary; its vector is built from its character n-grams\n"
    assert rows(stdout) == expected_rows(nlp.FastText.load(str(ft)).wv.most_similar("kingly", topn=2))

    glove = work / "glove.vec"
    rc, stdout, err = call(capsys, "train-vectors", work / "corpus.txt", "--algo", "glove", "--min-count", 1,
                           "--vector-size", 8, "--epochs", 1, "--out", glove)
    assert rc == 0 and stdout.startswith("glove: 28 words x 8 dimensions") and "loss:" in err  # Keras's progress bar
    wv = nlp.load_word2vec_format(str(glove))
    assert (len(wv), wv.vector_size) == (28, 8)


def test_evaluate_with_other_files(work, vectors, capsys):
    pairs, analogies, few = work / "pairs.tsv", work / "questions.txt", work / "few.tsv"
    pairs.write_text("# w1\tw2\tscore\nking\tqueen\t9\nman\twoman\t8\ntiger\tcat\t7\nzoo\tboy\t1\nking\tprince\t8\n")
    analogies.write_text(": family\nman woman king queen\nboy girl he she\n: animals\ntiger cat jaguar animal\n"
                         "tiger lion jaguar cat\n")
    few.write_text("king\tprince\t8\nking\tqueen\t9\n")
    wv = nlp.Word2Vec.load(str(vectors)).wv
    p, a = wv.evaluate_word_pairs(str(pairs)), wv.evaluate_analogies(str(analogies))
    rc, stdout, _ = call(capsys, "evaluate", vectors, "--word-pairs", pairs, "--analogies", analogies)
    assert rc == 0 and stdout.splitlines() == [
        f"word pairs pairs.tsv: Spearman {p['spearman']:.4f}, Pearson {p['pearson']:.4f} (4 pairs; 20.0% out of "
        "vocabulary)",
        f"analogies questions.txt: accuracy {a['accuracy']:.4f} ({a['correct']} of 3 questions; 1 skipped: a word "
        "out of vocabulary)",
        f"  family: {a['sections']['family']:.4f}", f"  animals: {a['sections']['animals']:.4f}"]
    rc, stdout, _ = call(capsys, "evaluate", vectors, "--word-pairs", few, "--analogies", analogies)
    assert rc == 0 and stdout.splitlines()[0] == ("word pairs few.tsv: no correlation, only 1 of 2 pairs are in the "
                                                  "vocabulary; cannot correlate")
