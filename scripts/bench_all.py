"""Run every scripts/bench_*.py and write one table of peer ratios.

    python scripts/bench_all.py [--out runs/bench] [--only vision,nlp] [--quick] [--timeout 1800]

Each benchmark records its rows through scripts/benchlib.emit; a benchmark
that fails or times out is listed with its error and the rest go on.
"""

import argparse
import datetime
import glob
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

#: Arguments per benchmark in a full run: the ones that need a flag to time their peer get it.
FULL_ARGS = {
    "bench_agents.py": ["--vs-sb3"],
}

#: Small settings per benchmark for --quick (a smoke run: the ratios are noisier).
QUICK_ARGS = {
    "bench_agents.py": ["--only", "ppo", "--scale", "0.2", "--vs-sb3"],
    "bench_data.py": ["--images", "600", "--size", "64", "--repeats", "2", "--steps", "3"],
    "bench_fit.py": ["--quick"],
    "bench_nlp.py": ["--quick"],
    "bench_quantize.py": ["--models", "digits_cnn", "--repeats", "5", "--calibration", "100"],
    "bench_vision.py": ["--size", "64", "--batch", "8", "--train-batch", "8", "--repeats", "2"],
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join("runs", "bench"))
    parser.add_argument("--only", help="comma-separated names, e.g. vision,nlp")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per benchmark")
    parser.add_argument("--quick", action="store_true", help="small settings for every benchmark (smoke run)")
    args = parser.parse_args(argv)

    scripts = sorted(p for p in glob.glob(os.path.join(HERE, "bench_*.py")) if not p.endswith("bench_all.py"))
    if args.only:
        wanted = {f"bench_{n.strip()}.py" for n in args.only.split(",")}
        scripts = [s for s in scripts if os.path.basename(s) in wanted]
    rows, failures = [], []
    for script in scripts:
        name = os.path.basename(script)
        print(f"== {name}", flush=True)
        with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as record:
            env = dict(os.environ, DLZOO_BENCH_JSON=record.name, PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""))
            try:
                extra = (QUICK_ARGS if args.quick else FULL_ARGS).get(name, [])
                proc = subprocess.run([sys.executable, script, *extra], env=env, timeout=args.timeout)
                if proc.returncode:
                    failures.append((name, f"exit code {proc.returncode}"))
            except subprocess.TimeoutExpired:
                failures.append((name, f"timed out after {args.timeout}s"))
            rows += [json.loads(line) for line in record.read().splitlines() if line.strip()]

    os.makedirs(args.out, exist_ok=True)
    lines = ["| benchmark | measure | peer | ratio (ours / peer) | details |", "|---|---|---|---:|---|"]
    for r in rows:
        details = ", ".join(f"{k}={v}" for k, v in r.items() if k not in ("benchmark", "measure", "peer", "ratio"))
        lines.append(f"| {r['benchmark']} | {r['measure']} | {r['peer']} | {r['ratio']:.3g} | {details} |")
    lines += [f"| {name} | failed | - | - | {why} |" for name, why in failures]
    table = "\n".join(lines)
    stamp = datetime.datetime.now().strftime("%Y-%m-%d_%H%M%S")
    path = os.path.join(args.out, f"bench_{stamp}.md")
    with open(path + ".tmp", "w") as f:
        f.write(f"# dlzoo benchmarks ({stamp})\n\n{table}\n")
    os.replace(path + ".tmp", path)
    print("\n" + table + f"\n\nwritten to {path}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
