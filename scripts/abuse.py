#!/usr/bin/env python3
"""The abuse campaign (issue 14): dde-train run the way a hurried or hostile user would, at toy
size, and every outcome classified.

    python3 scripts/abuse.py [DDE_TRAIN] [out=FOLDER] [quick=true] [markdown=FILE]

Cases (each one process, in a scratch folder of its own):
- every key of `dde-train config`, on the command line and in a config file, with values of the
  wrong type, out of range, empty, negative, huge (1e12, 1e17, 2^62), non-finite, lists where
  scalars go and the reverse; the command is the stage the key feeds (pretrain, annotators,
  train, eval, compare with dry_run, or config);
- config files: typos, duplicates, include cycles and missing includes, binary garbage, a
  10 MB line, a 10 MB key, not UTF-8;
- every file reader: model files and checkpoints missing, a folder, a device, empty, cut at
  several lengths, one bit flipped, holding a NaN, of another architecture, random bytes;
  pairs files with garbage lines; folders of images with bad captions and images;
- resumes: past the steps, at the steps, from another stage's checkpoint, from garbage.

Each outcome is one of:
- ok: exit 0 where the input is valid, or a clean error: exit 1 or 64, one line, naming the
  key, file or line the case is about;
- crash: an exit of 128 or more (a signal, a trap, a backtrace);
- hang: no exit within the time bound;
- unclear: a failure whose last line names neither the key nor the file of the case;
- wrote: a config error (exit 64) that left files behind, or a failure that changed a file that
  existed before (a checkpoint, a result);
- accepted: exit 0 where the input is invalid.
Prints a table per class and the failing cases; exits 1 when any case is not ok.
"""
import hashlib
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
args = [a for a in sys.argv[1:] if "=" not in a]
opts = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
DDE = os.path.abspath(args[0]) if args else os.path.join(ROOT, ".build/release/dde-train")
QUICK = opts.get("quick", "false") == "true"
TIMEOUT = float(opts.get("timeout", "120"))
WORK = opts.get("out") or tempfile.mkdtemp(prefix="dde-abuse-")
os.makedirs(WORK, exist_ok=True)

TOY = """seed = 0
threads = 1
block_out_channels = 8,16
norm_num_groups = 4
sample_size = 8
encoder.dim = 8
pretrain.steps = 2
pretrain.batch = 8
pretrain.val_images = 8
pretrain.val_every = 2
pretrain.sample_every = 0
pretrain.checkpoint_every = 1
annotators.steps = 2
annotators.batch = 8
annotators.eval_images = 16
annotators.min_accuracy = 0
sample.steps = 2
eval.steps = 2
eval.images_per_prompt = 1
eval.bootstrap = 100
pairs.samples_per_prompt = 2
batch = 2
steps = 2
train.checkpoint_every = 1
bench.repeats = 3
"""


def run(argv, cwd, timeout=TIMEOUT):
    """(exit code or None on timeout, stdout+stderr text)."""
    try:
        p = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
        code = p.returncode if p.returncode >= 0 else 128 - p.returncode
        return code, p.stderr.decode("utf-8", "replace"), p.stdout.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        return None, "", ""


def snapshot(folder):
    """path -> sha256 of every file below folder."""
    out = {}
    for base, _, files in os.walk(folder):
        for f in files:
            if f == ".lock":  # the run lock holds the pid of the last run: rewritten by design
                continue
            p = os.path.join(base, f)
            try:
                with open(p, "rb") as h:
                    out[os.path.relpath(p, folder)] = hashlib.sha256(h.read()).hexdigest()
            except OSError:
                pass
    return out


def error_line(stderr):
    lines = [l for l in stderr.strip().splitlines() if l.lower().startswith("error:") or ": error:" in l or l.startswith("rank")]
    return lines[-1] if lines else (stderr.strip().splitlines() or [""])[-1]


class Campaign:
    def __init__(self):
        self.results = []  # (class, case, outcome, detail)
        self.fixtures = os.path.join(WORK, "fixtures")

    def case(self, cls, label, argv, names, valid=None, files=None, keep=None, nan_stop_ok=False):
        """Runs `dde-train argv` in a fresh folder holding toy.conf (and `files`: name -> bytes).
        `names`: what a clean error must mention (any of them). `valid`: True (must succeed),
        False (must fail), None (either; a failure must be clean). `keep`: a folder whose files
        must not change."""
        folder = os.path.join(WORK, "case-%05d" % len(self.results))
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
        with open(os.path.join(folder, "toy.conf"), "w") as h:
            h.write(TOY)
        for name, data in (files or {}).items():
            with open(os.path.join(folder, name), "wb") as h:
                h.write(data)
        if argv and argv[0] in ("pairs", "eval"):
            # Their run folder's annotators stage (out=o), as a user's run would have it.
            shutil.copytree(self.annotators, os.path.join(folder, "o/annotators"))
        before = snapshot(folder)
        kept = snapshot(keep) if keep else None
        started = time.time()
        code, stderr, stdout = run([DDE] + argv, folder)
        seconds = time.time() - started
        after = snapshot(folder)
        line = error_line(stderr)
        if code is None:
            outcome, detail = "hang", "no exit in %d s" % TIMEOUT
        elif code >= 128:
            outcome, detail = "crash", "exit %d: %s" % (code, line[:200])
        elif code == 0:
            outcome, detail = ("accepted", "exit 0") if valid is False else ("ok", "exit 0")
        elif valid is True:
            outcome, detail = "unclear", "a valid input failed: exit %d: %s" % (code, line[:200])
        elif not any(n in line for n in names) and not (nan_stop_ok and "try a lower lr or beta" in line):
            outcome, detail = "unclear", "exit %d: %s (expected one of %s)" % (code, line[:200], names)
        elif code == 64 and set(after) != set(before):
            outcome, detail = "wrote", "exit 64 but wrote %s" % sorted(set(after) - set(before))[:3]
        elif kept is not None and snapshot(keep) != kept:
            outcome, detail = "wrote", "changed files of %s" % keep
        else:
            outcome, detail = "ok", "exit %d: %s" % (code, line[:160])
        self.results.append((cls, label, outcome, detail, seconds))
        if outcome == "ok":
            shutil.rmtree(folder, ignore_errors=True)
        return code

    # --- fixtures: a toy model, its checkpoints, pairs and a fine-tune checkpoint ---
    def make_fixtures(self):
        f = self.fixtures
        shutil.rmtree(f, ignore_errors=True)
        os.makedirs(f)
        with open(os.path.join(f, "toy.conf"), "w") as h:
            h.write(TOY)
        for argv in (["pretrain", "--config", "toy.conf", "out=run"],
                     ["annotators", "--config", "toy.conf", "out=run"],
                     ["pairs", "--config", "toy.conf", "out=run", "base=run/pretrain/model.safetensors"]):
            code, err, _ = run([DDE] + argv, f, timeout=600)
            if code != 0:
                sys.exit("abuse: fixture %s failed: %s" % (argv, err[-500:]))
        self.model = os.path.join(f, "run/pretrain/model.safetensors")
        self.ckpt = os.path.join(f, "run/pretrain/checkpoints/step-0000002.safetensors")
        pairs = [p for p in os.listdir(os.path.join(f, "run")) if p.startswith("pairs")]
        self.pairs = os.path.join(f, "run", pairs[0], "pairs.jsonl") if pairs else None
        code, err, _ = run([DDE, "train", "--config", "toy.conf", "out=tune", "base=" + self.model,
                            "pairs=" + (self.pairs or "")], f, timeout=600)
        if code != 0:
            sys.exit("abuse: fixture train failed: %s" % err[-500:])
        stage = [d for d in os.listdir(os.path.join(f, "tune")) if d.startswith("train-")][0]
        self.tune_ckpt = os.path.join(f, "tune", stage, "checkpoints/step-0000002.safetensors")
        self.annotators = os.path.join(f, "run/annotators")

    def keys(self):
        code, _, out = run([DDE, "config"], ROOT)
        keys = []
        for line in out.splitlines():
            if line.strip() and not line.startswith(("#", "KEY")):
                keys.append(line.split()[0])
        return keys

    def command_for(self, key):
        """The cheapest command that reads `key`."""
        if key.startswith("annotators."):
            return ["annotators"]
        if key in ("lr", "batch", "steps", "warmup_steps", "loss", "beta", "t_range", "pairs", "base") or key.startswith(
                ("train.", "dde", "disc.", "dpo.", "sft.", "uniform.", "discounted.", "adam_", "weight_decay", "grad_clip")):
            return ["train", "base=" + self.model, "pairs=" + self.pairs]
        if key.startswith("eval."):
            return ["eval", "checkpoint=" + self.model]
        if key.startswith(("sample", "n", "prompts", "trace", "checkpoint")) or key in ("n", "prompts", "trace", "checkpoint"):
            return ["sample", "checkpoint=" + self.model]
        if key.startswith(("compare.", "reuse", "dry_run", "bench.")):
            return ["config"]
        if key.startswith("pairs."):
            return ["pairs", "base=" + self.model]
        return ["pretrain"]

    VALUES = ["", "abc", "-1", "0", "1.5", "1e12", "1000000000000", "100000000000000000", "4611686018427387904",
              "nan", "inf", "-inf", "1,2", "a,b", ",", "1 #x", "\u00e9\u00e8", "x" * 300]

    def key_values(self):
        keys = self.keys()
        values = self.VALUES[:8] if QUICK else self.VALUES
        for key in keys:
            if key in ("out",):
                continue
            command = self.command_for(key)
            for value in values:
                # Valid huge step counts are long runs, not faults: not tried.
                if value in ("1e12", "1000000000000", "100000000000000000", "4611686018427387904") and (
                        key.endswith("steps") or key.endswith("_every") or key in ("timesteps", "bench.repeats", "bench.warmup", "n")):
                    continue
                # A huge step size is a legal value whose run diverges: stopped at the step with
                # "the loss is nan ... try a lower lr or beta", a clean error.
                steps_size = key.endswith("lr") or key.endswith("beta") or key.startswith(("adam_", "dde.kappa", "dde.correction"))
                self.case("value on the command line", "%s %s=%s" % (command[0], key, value[:40]),
                          [command[0], "--config", "toy.conf", "out=o"] + command[1:] + ["%s=%s" % (key, value)],
                          names=["'%s'" % key, key] + ([value[:40]] if value else []), nan_stop_ok=steps_size)
            # The same from a config file, one value each.
            for value in values[:6]:
                conf = TOY + "%s = %s\n" % (key, value) if key not in TOY else TOY.replace(
                    "\n%s = " % key, "\n%s = %s\n#" % (key, value), 1)
                steps_size = key.endswith("lr") or key.endswith("beta") or key.startswith(("adam_", "dde.kappa", "dde.correction"))
                self.case("value in a config file", "%s = %s" % (key, value[:40]),
                          [command[0], "--config", "bad.conf", "out=o"] + command[1:], names=["bad.conf:", "'%s'" % key],
                          files={"bad.conf": conf.encode()}, nan_stop_ok=steps_size)

    def config_files(self):
        big = "x" * 10_000_000
        cases = {
            "typo key": TOY + "pretrian.steps = 3\n",
            "duplicate key": TOY + "seed = 2\n",
            "no equals": TOY + "seed 2\n",
            "include missing": TOY + "include = nothere.conf\n",
            "include cycle": "include = bad.conf\n",
            "10 MB line": TOY + big + "\n",
            "10 MB key": TOY + big + " = 1\n",
            "10 MB value": TOY + "t_range = " + big + "\n",
        }
        for label, text in cases.items():
            self.case("config file", label, ["pretrain", "--config", "bad.conf", "out=o"], names=["bad.conf"],
                      files={"bad.conf": text.encode()}, valid=False)
        rng = random.Random(14)
        for i in range(5 if QUICK else 40):
            garbage = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4000)))
            self.case("config file", "random bytes %d" % i, ["pretrain", "--config", "bad.conf", "out=o"], names=["bad.conf"],
                      files={"bad.conf": garbage}, valid=False)
        self.case("config file", "not UTF-8", ["pretrain", "--config", "bad.conf", "out=o"], names=["bad.conf"],
                  files={"bad.conf": b"seed = \xff\xfe\n"}, valid=False)
        self.case("config file", "missing file", ["pretrain", "--config", "nothere.conf", "out=o"], names=["nothere.conf"],
                  valid=False)
        self.case("config file", "a folder", ["pretrain", "--config", "/tmp", "out=o"], names=["/tmp"], valid=False)
        self.case("config file", "a device", ["pretrain", "--config", "/dev/zero", "out=o"], names=["/dev/zero"], valid=False)
        for word in ["seed", "=1", "seed==1", "include=x.conf", "x" * 100_000 + "=1", "toy.conf"]:
            self.case("command line", word[:40], ["pretrain", "--config", "toy.conf", "out=o", word],
                      names=["command line", "override"], valid=False)

    def damaged(self, source):
        """name -> bytes of damaged copies of a safetensors file."""
        data = open(source, "rb").read()
        header = struct.unpack("<Q", data[:8])[0]
        out = {"empty": b"", "8 bytes": data[:8], "cut in the header": data[:8 + header // 2],
               "cut in the data": data[:len(data) - 100], "one byte short": data[:-1],
               "random bytes": bytes(random.Random(1).randrange(256) for _ in range(5000)),
               "a PNG": b"\x89PNG\r\n\x1a\n" + b"\x00" * 100}
        for name, position in [("a bit flipped in the data", len(data) - 7), ("a bit flipped in the first tensor", 8 + header + 3)]:
            b = bytearray(data)
            b[position] ^= 0x10
            out[name] = bytes(b)
        nan = bytearray(data)
        nan[8 + header: 8 + header + 4] = struct.pack("<f", float("nan"))
        out["a NaN (checksum broken too)"] = bytes(nan)
        return out

    def readers(self):
        for label, data in self.damaged(self.model).items():
            for command, key in [("sample", "checkpoint"), ("eval", "checkpoint"), ("export", "checkpoint"),
                                 ("train", "base")]:
                extra = ["pairs=" + self.pairs] if command == "train" else []
                self.case("model file", "%s %s=%s" % (command, key, label),
                          [command, "--config", "toy.conf", "out=o", "%s=m.safetensors" % key] + extra,
                          names=["m.safetensors"], files={"m.safetensors": data}, valid=False)
        for label, path in [("missing", "/nonexistent.safetensors"), ("a folder", "/tmp"), ("a device", "/dev/zero")]:
            for command, key in [("sample", "checkpoint"), ("train", "base"), ("pretrain", "resume")]:
                extra = ["pairs=" + self.pairs] if command == "train" else []
                self.case("model file", "%s %s=%s" % (command, key, label), [command, "--config", "toy.conf", "out=o",
                                                                              "%s=%s" % (key, path)] + extra,
                          names=[path, "'%s'" % key], valid=False)
        self.case("model file", "sample a fine-tune checkpoint", ["sample", "--config", "toy.conf", "out=o",
                                                                  "checkpoint=" + self.tune_ckpt], names=[], valid=True)
        self.case("model file", "eval a fine-tune checkpoint", ["eval", "--config", "toy.conf", "out=o",
                                                                "checkpoint=" + self.tune_ckpt], names=[], valid=True)
        pairs = open(self.pairs, "rb").read()
        lines = pairs.splitlines(keepends=True)
        for label, data in [("empty", b""), ("garbage line", lines[0] + b"{not json\n" + b"".join(lines[1:])),
                            ("cut", pairs[:len(pairs) // 2]), ("binary", bytes(range(256)) * 10),
                            ("missing image", lines[0].replace(b".png", b"-gone.png") + b"".join(lines[1:]))]:
            self.case("pairs file", label, ["train", "--config", "toy.conf", "out=o", "base=" + self.model,
                                            "pairs=p.jsonl"], names=["p.jsonl", "png"], files={"p.jsonl": data}, valid=False)

    def resumes(self):
        f = self.fixtures
        self.case("resume", "past the steps", ["pretrain", "--config", "toy.conf", "out=o", "pretrain.steps=1",
                                               "resume=" + self.ckpt], names=["pretrain.steps"], valid=False)
        self.case("resume", "at the steps", ["pretrain", "--config", "toy.conf", "out=o", "resume=" + self.ckpt],
                  names=[], valid=True)
        self.case("resume", "fine-tune past the steps", ["train", "--config", "toy.conf", "out=o", "base=" + self.model,
                                                         "pairs=" + self.pairs, "steps=1", "resume=" + self.tune_ckpt],
                  names=["'steps'"], valid=False)
        self.case("resume", "another stage's checkpoint", ["pretrain", "--config", "toy.conf", "out=o",
                                                           "resume=" + self.tune_ckpt], names=["stage"], valid=False)
        self.case("resume", "garbage", ["pretrain", "--config", "toy.conf", "out=o", "resume=garbage"],
                  names=["'resume'"], valid=False)
        # A finished run's folder: a bad resume must not touch it.
        self.case("resume", "bad resume into a finished run", ["pretrain", "--config", "toy.conf",
                                                               "out=" + os.path.join(f, "run"), "pretrain.steps=1",
                                                               "resume=" + self.ckpt],
                  names=["pretrain.steps"], valid=False, keep=os.path.join(f, "run"))

    def report(self):
        classes = []
        for r in self.results:
            if r[0] not in classes:
                classes.append(r[0])
        outcomes = ["ok", "crash", "hang", "unclear", "wrote", "accepted"]
        lines = ["| class | cases | " + " | ".join(outcomes) + " |", "|---" * (len(outcomes) + 2) + "|"]
        for c in classes + ["all"]:
            rows = [r for r in self.results if c == "all" or r[0] == c]
            lines.append("| %s | %d | " % (c, len(rows)) + " | ".join(str(sum(1 for r in rows if r[2] == o)) for o in outcomes) + " |")
        bad = [r for r in self.results if r[2] != "ok"]
        text = "\n".join(lines) + "\n"
        if bad:
            text += "\nNot ok:\n" + "\n".join("- %s: %s: %s: %s" % (r[2], r[0], r[1], r[3]) for r in bad) + "\n"
        slowest = max(self.results, key=lambda r: r[4])
        text += "\nSlowest case: %s: %s, %.1f s.\n" % (slowest[0], slowest[1], slowest[4])
        return text, len(bad)


def main():
    c = Campaign()
    started = time.time()
    c.make_fixtures()
    c.config_files()
    c.resumes()
    c.readers()
    c.key_values()
    text, bad = c.report()
    text += "Took %.0f s; binary %s; cases in %s.\n" % (time.time() - started, DDE, WORK)
    print(text)
    if "markdown" in opts:
        with open(opts["markdown"], "w") as h:
            h.write(text)
    sys.exit(1 if bad else 0)


main()
