"""Command line: ``python -m nlp train-tokenizer | encode | train-vectors | similar | analogy | evaluate``.

>>> python -m nlp train-tokenizer python-docs --model-type bpe --vocab-size 8000 --out tok.json
>>> python -m nlp encode tok.json "Hello world"
>>> python -m nlp train-vectors lee-background --algo word2vec --min-count 2 --epochs 20 --out lee.npz
>>> python -m nlp similar lee.npz attacks
>>> python -m nlp analogy lee.npz man king woman
>>> python -m nlp evaluate lee.npz

Results go to stdout, training progress (epochs, words/s) to stderr; a bad argument
exits with status 2 and one line naming it and what is accepted (docs/cli-nlp.md).
"""

from __future__ import annotations

import inspect
import os
import sys
import time

from nlp import cli_args as ca
from nlp.vectors import TooFewPairsError

__all__ = ["main", "build_parser"]

ALGOS = ("word2vec", "glove", "fasttext")
_W2V, _ALL = ("word2vec", "fasttext"), ALGOS
UNITS = ("documents", "paragraphs", "sentences", "lines")

# train-vectors options: (flag, keyword of the model's constructor, argparse type, algorithms, help)
_VECTOR_OPTIONS = (
    ("--vector-size", "vector_size", ca.integer(1), _ALL, "dimensions of each vector"),
    ("--window", "window", ca.integer(1), _ALL, "context words on each side of a word"),
    ("--min-count", "min_count", ca.integer(1), _ALL, "drop words seen fewer times"),
    ("--epochs", "epochs", ca.integer(1), _ALL, "passes over the corpus"),
    ("--max-vocab-size", "max_vocab_size", ca.integer(1), _ALL, "keep only this many most frequent words"),
    ("--batch-size", "batch_size", ca.integer(1), _ALL, "pairs (word2vec, fasttext) or co-occurrences (glove) per step"),
    ("--seed", "seed", ca.integer(0), _ALL, "random seed: the same seed gives the same vectors on one machine"),
    ("--arch", "sg", None, _W2V, "skipgram or cbow"),
    ("--negative", "negative", ca.integer(1), _W2V, "negative samples per pair"),
    ("--sample", "sample", ca.number(0), _W2V, "subsampling threshold of frequent words (0: off)"),
    ("--alpha", "alpha", ca.number(0, low_open=True), _W2V, "initial learning rate, decaying linearly to --min-alpha"),
    ("--min-alpha", "min_alpha", ca.number(0), _W2V, "final learning rate"),
    ("--min-n", "min_n", ca.integer(1), ("fasttext",), "shortest character n-gram"),
    ("--max-n", "max_n", ca.integer(1), ("fasttext",), "longest character n-gram"),
    ("--bucket", "bucket", ca.integer(1), ("fasttext",), "hash buckets (rows) of the n-gram vectors"),
    ("--x-max", "x_max", ca.number(0, low_open=True), ("glove",), "co-occurrence count at which a pair's weight is 1"),
    ("--power", "power", ca.number(0), ("glove",), "exponent of the weighting function"),
    ("--learning-rate", "learning_rate", ca.number(0, low_open=True), ("glove",), "AdaGrad's learning rate"),
)
_ARCH = {True: "skipgram", False: "cbow"}


def _model_class(algo):
    import nlp

    return {"word2vec": nlp.Word2Vec, "glove": nlp.GloVe, "fasttext": nlp.FastText}[algo]


def _library_default(algo, keyword):
    """The default of ``keyword`` in the constructor of ``algo``'s class (FastText: through Word2Vec's)."""
    for cls in _model_class(algo).__mro__:
        param = inspect.signature(cls.__init__).parameters.get(keyword)
        if param is not None and param.default is not inspect.Parameter.empty:
            return param.default
    raise KeyError(keyword)


def _default_text(keyword, algos):
    """``(default: 5)`` or ``(default: 5 for word2vec, fasttext; 10 for glove)``, read from the constructors."""
    by_value = {}
    for algo in algos:
        value = _library_default(algo, keyword)
        value = _ARCH.get(value, value) if keyword == "sg" else value
        by_value.setdefault("no limit" if value is None else f"{value:,}" if isinstance(value, int) else value, []).append(algo)
    if len(by_value) == 1:
        return f"(default: {next(iter(by_value))})"
    return "(default: " + "; ".join(f"{v} for {', '.join(a)}" for v, a in by_value.items()) + ")"


# -- commands -----------------------------------------------------------------------------------
def _cmd_train_tokenizer(args):
    import nlp

    texts = ca.read_corpus(args.corpus, args.unit)
    start = time.perf_counter()
    tok = nlp.SentencePieceTokenizer.train(texts, vocab_size=args.vocab_size, model_type=args.model_type,
                                           character_coverage=args.character_coverage,
                                           hard_vocab_limit=not args.soft_vocab_limit)
    seconds = time.perf_counter() - start
    if args.out.lower().endswith(".model"):
        tok.save_model_proto(args.out)
        what = "SentencePiece model proto (sentencepiece and nlp.Tokenizer.load read it)"
    else:
        tok.save(args.out)
        what = "JSON (nlp.Tokenizer.load reads it)"
    print(f"{args.model_type} tokenizer: {tok.vocab_size:,} pieces from {len(texts):,} {args.unit} of {args.corpus} "
          f"in {seconds:.1f} s")
    print(f"saved {args.out}: {what}")
    return 0


def _cmd_encode(args):
    import nlp

    tok = nlp.Tokenizer.load(args.file)
    ids = tok.encode(args.text)
    print("pieces: " + " ".join(tok.id_to_token(i) for i in ids))
    print("ids: " + " ".join(str(i) for i in ids))
    return 0


def _cmd_train_vectors(args):
    suffix = os.path.splitext(args.out)[1].lower()
    if args.fvocab is not None and suffix == ".npz":
        raise ValueError(f"invalid --fvocab={args.fvocab} with --out {args.out}: the .npz holds the counts; "
                         "--fvocab goes with a word2vec --out (.txt, .vec or .bin)")
    kwargs = {}
    for flag, keyword, _, algos, _ in _VECTOR_OPTIONS:
        value = getattr(args, keyword)
        if value is None:
            continue
        if args.algo not in algos:
            raise ValueError(f"invalid {flag}={value} with --algo {args.algo}; it applies to --algo {' or '.join(algos)}")
        kwargs[keyword] = (value == "skipgram") if keyword == "sg" else value
    model = _model_class(args.algo)(**kwargs, verbose=True)  # checks every setting before the corpus is read
    texts = ca.read_corpus(args.corpus, args.unit)
    start = time.perf_counter()
    with ca.progress_to_stderr():
        model.train(texts)
    seconds = time.perf_counter() - start
    if suffix == ".npz":
        model.save(args.out)
    else:
        model.wv.save_word2vec_format(args.out, binary=suffix == ".bin", fvocab=args.fvocab)
    tokens = int(model.counts.sum())
    print(f"{args.algo}: {len(model.words):,} words x {model.vector_size} dimensions from {tokens:,} tokens "
          f"({len(texts):,} {args.unit} of {args.corpus}), {model.epochs} epochs in {seconds:.1f} s "
          f"({tokens * model.epochs / max(seconds, 1e-9):,.0f} words/s)")
    print(f"saved {args.out}: {ca.VECTOR_FORMATS[suffix]}")
    if args.fvocab is not None:
        print(f"saved {args.fvocab}: the counts, 'word count' lines (gensim's fvocab=, word2vec.c's -save-vocab)")
    return 0


def _print_neighbours(rows):
    width = max([len(w) for w, _ in rows] + [4])
    for rank, (word, score) in enumerate(rows, 1):
        print(f"{rank:>4}  {word:<{width}}  {score:.4f}")


def _cmd_similar(args):
    wv = ca.load_vectors(args.file)
    note = ca.check_word(wv, args.word, "WORD", args.file)
    if note:
        print(f"note: {note}", file=sys.stderr)
    print(f"nearest to {args.word!r} of {len(wv):,} words (cosine similarity):")
    _print_neighbours(wv.most_similar(args.word, topn=args.topn))
    return 0


def _cmd_analogy(args):
    wv = ca.load_vectors(args.file)
    notes = [ca.check_word(wv, getattr(args, arg), arg.upper(), args.file) for arg in ("a", "b", "c")]
    for note in filter(None, notes):
        print(f"note: {note}", file=sys.stderr)
    print(f"{args.a} : {args.b} :: {args.c} : ?  (3CosAdd over {len(wv):,} words)")
    _print_neighbours(wv.most_similar(positive=[args.b, args.c], negative=[args.a], topn=args.topn))  # as wv.analogy
    return 0


def _default_eval_file(path, filename, flag):
    if path is not None:
        return path
    from nlp.corpora import _gensim_test_file

    try:
        return _gensim_test_file(filename)
    except ImportError as err:
        raise ValueError(f"{err}; or pass {flag} FILE") from None


def _cmd_evaluate(args):
    pairs_path = _default_eval_file(args.word_pairs, "wordsim353.tsv", "--word-pairs")
    analogies_path = _default_eval_file(args.analogies, "questions-words.txt", "--analogies")
    wv = ca.load_vectors(args.file)
    case = dict(restrict_vocab=args.restrict_vocab, case_insensitive=not args.case_sensitive)
    name = os.path.basename(pairs_path)
    try:
        r = wv.evaluate_word_pairs(pairs_path, **case)
    except TooFewPairsError as err:
        print(f"word pairs {name}: no correlation, {ca.one_line(err).split(': ', 1)[-1]}")
    else:
        print(f"word pairs {name}: Spearman {r['spearman']:.4f}, Pearson {r['pearson']:.4f} "
              f"({r['pairs']:,} pairs; {100 * r['oov_ratio']:.1f}% out of vocabulary)")
    r = wv.evaluate_analogies(analogies_path, **case)
    print(f"analogies {os.path.basename(analogies_path)}: accuracy {r['accuracy']:.4f} "
          f"({r['correct']:,} of {r['total']:,} questions; {r['skipped']:,} skipped: a word out of vocabulary)")
    for section, accuracy in r["sections"].items():
        if accuracy is not None:
            print(f"  {section}: {accuracy:.4f}")
    return 0


# -- parser -------------------------------------------------------------------------------------
def build_parser():
    """The ``python -m nlp`` argument parser (one-line errors, defaults shown in ``--help``)."""
    import nlp

    parser = ca.Parser(prog="python -m nlp", formatter_class=ca.Formatter,
                       description="dlzoo NLP: tokenizers and word vectors from the shell")
    common = ca.Parser(add_help=False)
    common.add_argument("--verbose", action="store_true", help="show TensorFlow's logs, which are off by default")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=ca.Parser)
    corpora = ", ".join(nlp.corpora.list_corpora())
    corpus_help = f"a built-in corpus ({corpora}) or a text file, one document per line"

    def command(name, fn, help_):
        p = sub.add_parser(name, parents=[common], help=help_, description=help_, formatter_class=ca.Formatter)
        p.set_defaults(fn=fn, prog=p.prog)
        return p

    train_defaults = inspect.signature(nlp.SentencePieceTokenizer.train).parameters
    p = command("train-tokenizer", _cmd_train_tokenizer, "train a SentencePiece BPE or unigram tokenizer")
    p.add_argument("corpus", metavar="CORPUS", type=ca.corpus, help=corpus_help)
    p.add_argument("--model-type", choices=("bpe", "unigram"), default=train_defaults["model_type"].default,
                   help="subword algorithm")
    p.add_argument("--vocab-size", type=ca.integer(1), metavar="N", default=train_defaults["vocab_size"].default,
                   help="pieces, counting the 5 special tokens and the 256 byte pieces")
    p.add_argument("--soft-vocab-limit", action="store_true",
                   help="make --vocab-size an upper bound when the corpus is too small for it")
    p.add_argument("--character-coverage", type=ca.number(0, low_open=True), metavar="X",
                   default=train_defaults["character_coverage"].default,
                   help="share of the corpus's characters with pieces of their own (the rest: byte pieces)")
    p.add_argument("--unit", choices=UNITS, default="sentences", help="what one training text is")
    p.add_argument("--out", required=True, metavar="FILE", type=ca.out_path(),
                   help="FILE.json (nlp's tokenizer file) or FILE.model (SentencePiece's own)")

    p = command("encode", _cmd_encode, "print the pieces and ids of a text")
    p.add_argument("file", metavar="FILE", type=ca.existing_file("a tokenizer file (train-tokenizer --out)"),
                   help="a tokenizer file (.json or .model)")
    p.add_argument("text", metavar="TEXT", help="the text to encode (quote it)")

    p = command("train-vectors", _cmd_train_vectors, "train word vectors: Word2Vec, GloVe or FastText")
    p.add_argument("corpus", metavar="CORPUS", type=ca.corpus, help=corpus_help)
    p.add_argument("--algo", choices=ALGOS, default="word2vec", help="algorithm")
    p.add_argument("--unit", choices=UNITS, default="documents", help="what one training text is")
    p.add_argument("--out", required=True, metavar="FILE", type=ca.out_path(tuple(ca.VECTOR_FORMATS)),
                   help="FILE.npz: the whole model, reloads losslessly (FastText's n-gram vectors too); "
                        "FILE.txt, .vec or .bin: word2vec text or binary format (word vectors only)")
    p.add_argument("--fvocab", metavar="FILE", type=ca.out_path(),
                   help="with a word2vec --out: also write the word counts, one 'word count' line each "
                        "(gensim's load_word2vec_format(fvocab=), word2vec.c's -save-vocab)")
    for flag, keyword, type_, algos, help_ in _VECTOR_OPTIONS:
        only = "" if algos == _ALL else f"[{', '.join(algos)}] "
        extra = (dict(choices=tuple(_ARCH.values())) if keyword == "sg"
                 else dict(type=type_, metavar="N" if type_.__qualname__.startswith("integer") else "X"))
        p.add_argument(flag, dest=keyword, **extra, help=f"{only}{help_} {_default_text(keyword, algos)}")

    vectors_help = "vectors: a train-vectors .npz, or a word2vec .txt/.vec/.bin file"
    vectors_file = ca.existing_file("a vectors file (.npz from train-vectors, or word2vec .txt/.vec/.bin)")
    p = command("similar", _cmd_similar, "the words closest to a word")
    p.add_argument("file", metavar="FILE", type=vectors_file, help=vectors_help)
    p.add_argument("word", metavar="WORD")
    p.add_argument("--topn", type=ca.integer(1), default=10, metavar="N", help="words printed")

    p = command("analogy", _cmd_analogy, "A is to B as C is to ? (3CosAdd: closest to B - A + C)")
    p.add_argument("file", metavar="FILE", type=vectors_file, help=vectors_help)
    for arg in ("a", "b", "c"):
        p.add_argument(arg, metavar=arg.upper())
    p.add_argument("--topn", type=ca.integer(1), default=5, metavar="N", help="answers printed, best first")

    p = command("evaluate", _cmd_evaluate, "Spearman on word similarity pairs and accuracy on word analogies")
    p.add_argument("file", metavar="FILE", type=vectors_file, help=vectors_help)
    p.add_argument("--word-pairs", metavar="FILE", type=ca.existing_file("a file of 'word1<TAB>word2<TAB>score' lines"),
                   help="word similarity pairs, wordsim353 format (default: wordsim353.tsv from gensim's wheel)")
    p.add_argument("--analogies", metavar="FILE", type=ca.existing_file("a file of ': section' and 'a b c d' lines"),
                   help="analogy questions, questions-words.txt format (default: questions-words.txt from gensim's wheel)")
    p.add_argument("--restrict-vocab", type=ca.integer(1), default=300_000, metavar="N",
                   help="only the most frequent words are answers and count as known")
    p.add_argument("--case-sensitive", action="store_true", help="match words with their case (default: lowercase both)")
    return parser


def main(argv=None):
    """Run one command; returns its exit status (2 for a bad argument, with one line on stderr)."""
    from zoo.core import quiet

    argv = sys.argv[1:] if argv is None else list(argv)
    if "--verbose" in argv:
        quiet.set_verbose(True)
    args = build_parser().parse_args(argv)
    # the library's messages name its arguments (min_count=50); the user typed options (--min-count)
    options = [keyword for _, keyword, *_ in _VECTOR_OPTIONS]
    options += ["vocab_size", "model_type", "character_coverage", "topn", "restrict_vocab"]
    try:
        return args.fn(args)
    except (ValueError, KeyError, FileNotFoundError, ImportError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
        print(f"{args.prog}: error: {ca.one_line(ca.cli_names(message, options))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{args.prog}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
