#!/usr/bin/env python3
"""Writes docs/RESULTS.md and the README's results block from run folders; nothing is typed by hand.

    scripts/results.py [main=runs/sd15] [ablation=runs/ablate-estimation-sd15]
                       [segments=runs/segments-sd15] [sweep=runs/sweep-sd15]
                       [sweep_ablation=runs/sweep-ablation-sd15] [zoo=runs/sd15-zoo]
                       [cond=runs/sd15-cond] [lora=runs/sd15-lora] [screenshot=true]

Every table comes from a file of a run folder, named beside it with the folder's build (version,
commit) and command (run-info.txt) and its resolved config; a missing folder's section says how
to make it. The figures the report drew are copied to docs/figures/ (main job, segments), the
main job's base-model samples to docs/base-samples.png, and with screenshot=true its report.html
is rendered to docs/report-sd15.png (scripts/screenshot-report.sh, needs chromium). The README's
block between <!-- results:begin --> and <!-- results:end --> is rewritten from the main job.
"""
import csv
import os
import re
import shutil
import subprocess
import sys
from collections import OrderedDict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")
FIGURES = os.path.join(DOCS, "figures")


def fail(message):
    print(f"results: {message}", file=sys.stderr)
    sys.exit(64)


def arguments(argv):
    options = {"main": "runs/sd15", "ablation": "runs/ablate-estimation-sd15", "segments": "runs/segments-sd15",
               "sweep": "runs/sweep-sd15", "sweep_ablation": "runs/sweep-ablation-sd15", "zoo": "runs/sd15-zoo", "cond": "runs/sd15-cond",
               "lora": "runs/sd15-lora", "screenshot": "false"}
    for arg in argv:
        key, sep, value = arg.partition("=")
        if not sep or key not in options:
            fail(f"expected one of {', '.join(k + '=' for k in options)}, got '{arg}'")
        options[key] = value
    for key in ("main", "ablation", "segments", "sweep", "sweep_ablation", "zoo", "cond", "lora"):
        options[key] = os.path.join(ROOT, options[key]) if not os.path.isabs(options[key]) else options[key]
    return options


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def run_info(folder):
    path = os.path.join(folder, "run-info.txt")
    if not os.path.exists(path):
        return {}
    return dict(line.split(": ", 1) for line in read(path).splitlines() if ": " in line)


def config_origin(folder):
    """The first line of config.resolved.conf: the config file the run resolved."""
    text = read(os.path.join(folder, "config.resolved.conf"))
    first = text.splitlines()[0]
    match = re.search(r"from (\S+)", first)
    return match.group(1) if match else first.lstrip("# ")


def provenance(folder, label):
    info = run_info(folder)
    rel = os.path.relpath(folder, ROOT)
    parts = [f"Run folder `{rel}`"]
    if info:
        parts.append(f"dde-train {info.get('version', '?')} at commit `{info.get('commit', '?')}`")
        parts.append(f"command `{info.get('command', '?')}`")
        parts.append(f"finished {info.get('finished', '?')} after {int(float(info.get('seconds', '0')))} s "
                     f"({float(info.get('seconds', '0')) / 60:.1f} min)")
        if "claims recomputed" in info:
            parts.append(f"claims recomputed by `dde-train claims` ({info['claims recomputed']})")
    parts.append(f"config `{config_origin(folder)}` (resolved: `{rel}/config.resolved.conf`)")
    return f"*{label}: " + "; ".join(parts) + ".*\n"


def fenced_table(report_md):
    """The first fenced block of report.md: the table the run printed."""
    match = re.search(r"^(.*?)\n\n```\n(.*?)```", report_md, re.S | re.M)
    if not match:
        return ""
    heading = match.group(1).splitlines()[-1]
    return f"{heading}:\n\n```\n{match.group(2)}```\n"


def table_from_report_csv(folder):
    """The table the run prints (each method scored by the annotator of its pairs), rebuilt from
    report.csv, which has every method (the table of builds before 2026-12-08 left out the newer
    losses)."""
    records = rows(os.path.join(folder, "report.csv"))
    annotators = list(dict.fromkeys(r["eval_annotator"] for r in records if r["method"] == "base"))
    methods = list(dict.fromkeys(r["method"] for r in records))
    lines = ["method".ljust(12) + "".join(a.ljust(34) for a in annotators)]
    for m in methods:
        cells = []
        for a in annotators:
            r = next((r for r in records if r["method"] == m and r["eval_annotator"] == a
                      and (m == "base" or r["train_annotator"] == a)), None)
            if r is None:
                cells.append("-")
            elif m == "base" or not r["change_ci_low"]:
                cells.append(f"{float(r['mean']):.3f} [{float(r['ci_low']):.3f},{float(r['ci_high']):.3f}]")
            else:
                cells.append(f"{float(r['mean']):.3f} {float(r['change_pct']):+.1f}% [{float(r['change_ci_low']):+.1f},"
                             f"{float(r['change_ci_high']):+.1f}] b{float(r['beat_ratio']):.2f}")
        lines.append(m.ljust(12) + "".join(c.ljust(34) for c in cells))
    return ("Mean over seeds, change vs base [95% paired bootstrap], beat ratio b; each method scored by the annotator "
            "of its pairs (from `report.csv`):\n\n```\n" + "\n".join(l.rstrip() for l in lines) + "\n```\n")


def section(report_md, title):
    """A `## title` section of report.md, without its heading, up to the next `## `."""
    match = re.search(rf"^## {re.escape(title)}[^\n]*\n(.*?)(?=^## |\Z)", report_md, re.S | re.M)
    # Its own subsections one level down, under the section this script puts it in.
    return re.sub(r"^### ", "#### ", match.group(1).strip(), flags=re.M) + "\n" if match else ""


def markdown_table(records, columns, formats=None):
    formats = formats or {}
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in records:
        cells = []
        for c in columns:
            v = r.get(c, "")
            if c in formats and v not in ("", None):
                try:
                    v = formats[c].format(float(v))
                except ValueError:
                    pass
            cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def read_claims(folder):
    """claims.csv's rows, each with its interval formatted and, when inconclusive, the words of
    claims-to-decide.csv ("would decide"); [] when the run wrote none."""
    path = os.path.join(folder, "claims.csv")
    if not os.path.exists(path):
        return []
    decide_path = os.path.join(folder, "claims-to-decide.csv")
    decide = {r["claim"]: r["in_words"] for r in rows(decide_path)} if os.path.exists(decide_path) else {}
    records = []
    for r in rows(path):
        r["would decide"] = decide.get(r["claim"], "") if r["verdict"] == "inconclusive" else ""
        r["95% interval"] = f"[{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]"
        r["value"] = fmt(r["value"])
        records.append(r)
    return records


def claims_table(folder):
    records = read_claims(folder)
    return markdown_table(records, ["claim", "statistic", "value", "95% interval", "verdict", "would decide"]) if records else ""


def all_claims(folders):
    """Every run's claims in one table, with the run they come from and a count per verdict."""
    records, counts = [], {}
    columns = ["run", "claim", "statistic", "value [95% interval]", "verdict", "would decide"]
    for label, folder in folders:
        if not os.path.isdir(folder):
            for cells in kept_claims(label):
                record = dict(zip(columns, cells))
                verdict = record.get("verdict", "").strip("*")
                counts[verdict] = counts.get(verdict, 0) + 1
                records.append(record)
            continue
        for r in read_claims(folder):
            counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
            records.append(dict(r, run=label, verdict=f"**{r['verdict']}**",
                                **{"value [95% interval]": f"{r['value']} {r['95% interval']}"}))
    if not records:
        return ""
    summary = ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
    return (f"{len(records)} claims: {summary}.\n\n"
            + markdown_table(records, columns))


def fmt(text):
    try:
        v = float(text)
    except ValueError:
        return text
    if v != v or v in (float("inf"), float("-inf")):
        return text
    return f"{v:.4g}"


def timings(folder):
    path = os.path.join(folder, "timings.csv")
    if not os.path.exists(path):
        return ""
    groups = OrderedDict()
    counts = {}
    for r in rows(path):
        stage = r["stage"]
        if stage.startswith("train-"):
            key = "fine-tunes: " + stage.split("-")[1] + ("-" + stage.split("-")[2] if stage.split("-")[2] in ("single", "step") else "")
        elif stage.startswith("eval-") and stage != "eval-base":
            key = "evaluations of the fine-tunes"
        elif stage.startswith("pairs-"):
            key = "pairs (sampling once, scoring per annotator)"
        else:
            key = stage
        groups[key] = groups.get(key, 0.0) + float(r["seconds"])
        counts[key] = counts.get(key, 0) + 1
    total = sum(groups.values())
    records = [{"stage": k, "stages": counts[k], "seconds": f"{v:.0f}", "share": f"{100 * v / total:.1f}%"} for k, v in groups.items()]
    records.append({"stage": "**all stages**", "stages": sum(counts.values()), "seconds": f"**{total:.0f}**",
                    "share": f"{total / 60:.1f} min"})
    return markdown_table(records, ["stage", "stages", "seconds", "share"])


def record_updates(folder):
    """Per DDE fine-tune, the fewest updates any record bucket received (record.csv)."""
    found = []
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name, "record.csv")
        if name.startswith("train-dde-") and not name.startswith(("train-dde-single", "train-dde-step")) and os.path.exists(path):
            table = rows(path)
            found.append((name, min(int(r["updates"]) for r in table), len(table)))
    return found


def copy_figures(folder, names, prefix=""):
    os.makedirs(FIGURES, exist_ok=True)
    copied = []
    for name in names:
        source = os.path.join(folder, name)
        if os.path.exists(source):
            target = os.path.join(FIGURES, prefix + os.path.basename(name))
            shutil.copyfile(source, target)
            copied.append(os.path.relpath(target, DOCS))
    return copied


def missing(folder, command):
    return f"Not run yet: `{command}` makes `{os.path.relpath(folder, ROOT)}`; then `scripts/results.py` again.\n"


PREVIOUS = os.path.join(DOCS, "RESULTS.md")
KEPT_NOTE = ("*Kept from the previous `docs/RESULTS.md`: this section's run folder is not on the machine that regenerated "
             "the file. Every number below was generated from the run folder, build and config its own provenance line names; "
             "rerun the command it names and `scripts/results.py` to replace it.*\n")


def previous_results():
    return read(PREVIOUS) if os.path.exists(PREVIOUS) else ""


def kept_section(title):
    """The `## title` section of the previous RESULTS.md when it was generated from a run folder (it
    has a provenance line), with the kept note once under its heading; None otherwise."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", previous_results(), re.S | re.M)
    if not match or "Run folder `" not in match.group(1):
        return None
    body = match.group(1).strip("\n")
    if not body.startswith(KEPT_NOTE.strip()):
        body = KEPT_NOTE + "\n" + body
    return f"## {title}\n\n{body}\n"


def kept_claims(label):
    """The rows of run `label` in the previous file's table of every run's claims, as cells."""
    match = re.search(r"^## The paper's claims here[^\n]*\n(.*?)(?=^## |\Z)", previous_results(), re.S | re.M)
    if not match:
        return []
    found = []
    for line in match.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells and cells[0] == label:
            found.append(cells)
    return found


MAIN_CHARTS = ["report/heldout-by-t.svg", "report/correction.svg", "report/credit.svg", "report/credit-dLdD.svg", "report/loss.svg",
               "report/implicit-accuracy.svg", "report/z.svg", "report/grid-all.png"]


def main_section(folder):
    out = ["## The main comparison (`configs/sd15.conf`)\n"]
    if not os.path.exists(os.path.join(folder, "report.md")):
        return "\n".join(out + [missing(folder, "scripts/dde-train --config configs/sd15.conf")])
    report = read(os.path.join(folder, "report.md"))
    out.append(provenance(folder, "Main job"))
    out.append("Every method fine-tuned on every annotator's pairs with each seed of `compare.seeds`, each at the beta and "
               "learning rate of its keys; every model scored on the test prompts with the same initial noise per image "
               "(README, \"Intervals\"). The table the run printed:\n")
    out.append(fenced_table(report))
    out.append("### Method against method (`report-versus.csv`)\n")
    out.append(section(report, "Method against method"))
    out.append("### The paper's claims (`claims.csv`, `claims-to-decide.csv`)\n")
    out.append(claims_table(folder))
    out.append("### Time by stage (`timings.csv`)\n")
    out.append(timings(folder))
    dist = os.path.join(folder, "report-dist.csv")
    if os.path.exists(dist):
        out.append("### Distribution metrics (`report-dist.csv`)\n")
        out.append("Frechet distance of align features to clean renders of the same prompts (lower is closer), the "
                   "Inception-Score analog and the colour error, per model:\n")
        out.append(markdown_table(rows(dist), ["method", "train_annotator", "fd", "is", "colour_error"],
                                  {"fd": "{:.2f}", "is": "{:.3f}", "colour_error": "{:.1f}"}))
    updates = record_updates(folder)
    if updates:
        out.append("### The DDE record (`record.csv`, `record-history.csv`)\n")
        out.append("How the record warms up: with one entry per timestep, a fine-tune's batches would update each entry only a "
                   "handful of times (the expected count is batch x steps / T), and the \"DDE\" of the table would in effect be "
                   "DDE-Single. The main job buckets the record instead (`dde.record_buckets` in the config, whose comment gives "
                   "the arithmetic): every bucket is updated by every pair whose t falls in it, and the bias-corrected EMA of "
                   "docs/LOSSES.md runs per bucket. What it received, per DDE fine-tune (the fewest updates of any bucket; at "
                   "least 100 is the aim): "
                   + ", ".join(f"`{n}` {u} of {b} buckets" for n, u, b in updates)
                   + f". Smallest: **{min(u for _, u, _ in updates)}**. Whether the record then settles is the claim "
                   "\"the DDE record converges\" above (its relative change over the last fifth of the fine-tune); the chart "
                   "of C_t over the logged steps is the report's record chart below.\n")
    records = sorted(os.path.join("report", f) for f in os.listdir(os.path.join(folder, "report"))
                     if f.startswith("record-") and f.endswith(".svg")) if os.path.isdir(os.path.join(folder, "report")) else []
    figures = copy_figures(folder, MAIN_CHARTS + records)
    if figures:
        out.append("### Figures (the run's `report/`, copied to docs/figures/)\n")
        out.append("\n".join(f"- [{os.path.basename(f)}]({f})" for f in figures) + "\n")
    if os.path.exists(os.path.join(DOCS, "report-sd15.png")):
        out.append("The run's report.html rendered by `scripts/screenshot-report.sh` (regenerated by "
                   "`scripts/results.py screenshot=true`): [report-sd15.png](report-sd15.png).\n")
    return "\n".join(out)


def experiment_section(folder, title, command, what, charts=(), csv_table=False):
    out = [f"## {title}\n"]
    if not os.path.exists(os.path.join(folder, "report.md")):
        return kept_section(title) or "\n".join(out + [missing(folder, command)])
    report = read(os.path.join(folder, "report.md"))
    out.append(provenance(folder, title))
    out.append(what + "\n")
    out.append(table_from_report_csv(folder) if csv_table else fenced_table(report))
    versus = section(report, "Method against method")
    if versus.strip():
        out.append("### Method against method\n")
        out.append(versus)
    claims = claims_table(folder)
    if claims:
        out.append("### Claims (`claims.csv`, `claims-to-decide.csv`)\n")
        out.append(claims)
    out.append("### Time by stage\n")
    out.append(timings(folder))
    figures = copy_figures(folder, charts, prefix=os.path.basename(folder) + "-")
    if figures:
        out.append("\n".join(f"![{os.path.basename(f)}]({f})" for f in figures) + "\n")
    return "\n".join(out)


def sweep_section(folder, title="Fair tuning (`scripts/sweep.sh`)", command="scripts/sweep.sh configs/sd15.conf"):
    out = [f"## {title}\n"]
    sweep_md = os.path.join(folder, "sweep.md")
    if not os.path.exists(sweep_md):
        kept = kept_section(title)
        if kept:
            return kept
        committed = os.path.join(DOCS, "sweep", "sweep.md")
        if command == "scripts/sweep.sh configs/sd15.conf" and os.path.exists(committed):
            out.append(f"No sweep run folder here; the grid the config's values came from is kept in "
                       f"[sweep/sweep.md](sweep/sweep.md) (its own header names the config and date).\n")
            return "\n".join(out)
        return "\n".join(out + [missing(folder, command)])
    out.append(provenance(folder, "Sweep"))
    body = read(sweep_md)
    out.append("\n".join(body.splitlines()[1:]).strip() + "\n")
    return "\n".join(out)


def base_samples(folder):
    samples = os.path.join(folder, "pretrain", "samples")
    if not os.path.isdir(samples):
        return
    last = sorted(f for f in os.listdir(samples) if f.endswith(".png"))
    if last:
        shutil.copyfile(os.path.join(samples, last[-1]), os.path.join(DOCS, "base-samples.png"))


def readme_block(folder):
    report_path = os.path.join(folder, "report.md")
    if not os.path.exists(report_path):
        return None
    report = read(report_path)
    lines = [provenance(folder, "The main job"), fenced_table(report), "Its claims (all of them, with the ablation's and the segments', "
             "in [docs/RESULTS.md](docs/RESULTS.md)):\n", claims_table(folder)]
    return "\n".join(lines)


def rewrite_readme(block):
    path = os.path.join(ROOT, "README.md")
    text = read(path)
    begin, end = "<!-- results:begin -->", "<!-- results:end -->"
    if text.count(begin) != 1 or text.count(end) != 1:
        fail(f"README.md needs exactly one '{begin}' and one '{end}' line")
    head, rest = text.split(begin)
    _, tail = rest.split(end)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(head + begin + "\n" + block + end + tail)
    os.replace(path + ".tmp", path)


TRAIN_FOLDER = re.compile(r"^train-(.+)-(align|aesthetic|pick)-s(\d+)$")


def credit_by_step(folder):
    """Which steps each loss learned and gave credit to, from its fine-tunes' files: per tenth of
    t, the held-out implicit accuracy's gain from step 0 to the end (heldout-by-t.csv) and the
    share of the credit density x gradient norm at the end (credit.csv), each averaged over the
    loss's fine-tunes (annotators and seeds); then one generated sentence per loss."""
    gains, shares, runs = OrderedDict(), OrderedDict(), {}
    for name in sorted(os.listdir(folder)):
        match = TRAIN_FOLDER.match(name)
        by_t, credit = os.path.join(folder, name, "heldout-by-t.csv"), os.path.join(folder, name, "credit.csv")
        if not match or not os.path.exists(by_t) or not os.path.exists(credit):
            continue
        method = match.group(1)
        table = rows(by_t)
        first, last = min(int(r["step"]) for r in table), max(int(r["step"]) for r in table)
        start = {r["t_low"]: float(r["accuracy"]) for r in table if int(r["step"]) == first}
        end = {r["t_low"]: float(r["accuracy"]) for r in table if int(r["step"]) == last}
        gain = [end[k] - start[k] for k in sorted(end, key=int)]
        table = rows(credit)
        last = max(int(r["step"]) for r in table)
        weights = [float(r["density"]) * float(r["grad_norm"]) for r in sorted(table, key=lambda r: int(r["bucket"])) if int(r["step"]) == last]
        total = sum(weights) or 1.0
        gains.setdefault(method, []).append(gain)
        shares.setdefault(method, []).append([w / total for w in weights])
        runs[method] = runs.get(method, 0) + 1
    if not gains:
        return ""
    def mean(lists):
        return [sum(v) / len(v) for v in zip(*lists)]
    tenths = [f"{10 * i}-{10 * (i + 1)}%" for i in range(10)]
    out = ["Per tenth of t (as a share of T), averaged over each loss's fine-tunes (every annotator and seed): the "
           "held-out implicit accuracy's gain from step 0 to the end (`heldout-by-t.csv`; pairs at a t inside the tenth) "
           "and the share of the loss's credit at the end (`credit.csv`: density x gradient norm on the probe pairs).\n",
           "#### Held-out accuracy gained, by tenth of t (points of accuracy)\n"]
    out.append(markdown_table([dict({"loss": m, "runs": runs[m]}, **{t: f"{100 * g:+.1f}" for t, g in zip(tenths, mean(v))})
                               for m, v in gains.items()], ["loss", "runs"] + tenths))
    out.append("#### Share of the credit, by tenth of t\n")
    out.append(markdown_table([dict({"loss": m}, **{t: f"{100 * c:.0f}%" for t, c in zip(tenths, mean(v))})
                               for m, v in shares.items()], ["loss"] + tenths))
    sentences = []
    for m in gains:
        g, c = mean(gains[m]), mean(shares[m])
        best = max(range(10), key=lambda i: g[i])
        middle = sum(c[2:7])
        sentences.append(f"`{m}` gained most at {tenths[best]} of T ({100 * g[best]:+.1f} points) and put "
                         f"{100 * sum(c[:2]):.0f}% of its credit on the cleanest 20% of t, {100 * middle:.0f}% on the middle "
                         f"20-70% (the paper's middle segment) and {100 * sum(c[7:]):.0f}% on the noisiest 30%.")
    out.append("What the files say, loss by loss (generated from the two tables above):\n\n" + "\n".join(f"- {x}" for x in sentences) + "\n")
    out.append(credit_summary(folder, {m: mean(v) for m, v in shares.items()}, {m: mean(v) for m, v in gains.items()}))
    return "\n".join(out)


def spearman(x, y):
    def ranks(v):
        order = sorted(range(len(v)), key=lambda i: v[i])
        r = [0.0] * len(v)
        for rank, i in enumerate(order):
            r[i] = rank
        return r
    rx, ry = ranks(x), ranks(y)
    n = len(x)
    mx, my = sum(rx) / n, sum(ry) / n
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sx = sum((a - mx) ** 2 for a in rx) ** 0.5
    sy = sum((b - my) ** 2 for b in ry) ** 0.5
    return cov / (sx * sy) if sx and sy else float("nan")


def credit_summary(folder, shares, gains):
    """A paragraph on which steps get the credit and whether that goes with the result: where each
    loss puts its credit, and the rank correlation across the losses between that and their mean
    change on their own annotators (report.csv). A description of these runs, not a claim: it
    has no interval."""
    change = {}
    for r in rows(os.path.join(folder, "report.csv")):
        if r["method"] != "base" and r["train_annotator"] == r["eval_annotator"] and r["method"] in shares:
            change.setdefault(r["method"], []).append(float(r["change_pct"]))
    losses = [m for m in shares if m in change]
    if len(losses) < 3:
        return ""
    mean_change = {m: sum(change[m]) / len(change[m]) for m in losses}
    noisy = {m: sum(shares[m][7:]) for m in losses}
    middle = {m: sum(shares[m][2:7]) for m in losses}
    clean = {m: sum(shares[m][:2]) for m in losses}
    by_change = sorted(losses, key=lambda m: -mean_change[m])
    where = {m: max((("the noisy end", noisy[m]), ("the middle", middle[m]), ("the clean end", clean[m])), key=lambda x: x[1])[0]
             for m in losses}
    groups = {}
    for m in losses:
        groups.setdefault(where[m], []).append(m)
    rho_noisy = spearman([noisy[m] for m in losses], [mean_change[m] for m in losses])
    rho_middle = spearman([middle[m] for m in losses], [mean_change[m] for m in losses])
    text = ("**Which steps deserve the credit, as these runs tell it.** Of three bands of t (the cleanest 20%, the "
            "middle 20-70%, the noisiest 30%), each loss puts the largest share of its credit on "
            + "; ".join(f"{place} ({', '.join(f'`{m}`' for m in ms)})" for place, ms in sorted(groups.items()))
            + ". Ranked by their mean change on their own annotators (the three annotators averaged), the losses go "
            + " > ".join(f"`{m}` ({mean_change[m]:+.1f}%)" for m in by_change)
            + f". Across the {len(losses)} losses, the rank correlation between the change and the share of credit on the "
            f"noisiest 30% of t is {rho_noisy:+.2f}, and on the middle 20-70% {rho_middle:+.2f}. "
            "That is a description of these runs, not a claim: it has no interval, the losses differ in more than where "
            "their credit goes (their betas and learning rates are not tuned alike), and the method-against-method "
            "matrix above is what decides between two losses.\n")
    return text


def zoo_section(folder):
    title = "Every loss side by side (`configs/sd15-zoo.conf`)"
    text = experiment_section(folder, title, "dde-train --config configs/sd15-zoo.conf reuse=runs/sd15",
                              "The paper's four losses and the seven proposed since (README, \"The newer losses\"), on the main "
                              "job's base, annotators and pairs with its seeds and evaluation. The newer losses' learning rates "
                              "are the config's (see its comments on tuning).", csv_table=True)
    if os.path.exists(os.path.join(folder, "report.md")):
        text += "\n### Which steps each loss learned and credited\n\n" + credit_by_step(folder)
    return text


def kendall_tau(a, b):
    """Kendall's tau between two orderings of the same items (lists, best first)."""
    pos_a, pos_b = {m: i for i, m in enumerate(a)}, {m: i for i, m in enumerate(b)}
    items, score, n = list(a), 0, 0
    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            x, y = items[i], items[j]
            score += 1 if (pos_a[x] - pos_a[y]) * (pos_b[x] - pos_b[y]) > 0 else -1
            n += 1
    return score / n if n else 1.0


def lora_section(full, lora):
    """LoRA against full fine-tuning (issue 16): the same base, annotators and pairs (copied with
    reuse=), each method's change on its own annotator in both, the ranking per annotator, and the
    method-against-method verdicts of the two runs side by side."""
    title = "LoRA against full fine-tuning (`configs/sd15-lora.conf`)"
    command = "dde-train --config configs/sd15-lora.conf reuse=runs/sd15-cond threads=2 ranks=1"
    out = [f"## {title}\n"]
    if not os.path.exists(os.path.join(lora, "report.csv")) or not os.path.exists(os.path.join(full, "report.csv")):
        return kept_section(title) or "\n".join(out + [missing(lora, command + " (after configs/sd15-cond.conf)")])
    out.append(provenance(full, "Full fine-tuning"))
    out.append(provenance(lora, "LoRA"))
    out.append("The cross-attention network of `configs/sd15-cond.conf`, fine-tuned in full and with rank-8 LoRA adapters on "
               "to_q, to_k, to_v and to_out.0 (the reference: the network with its adapters off), on the same base, "
               "annotators and pairs (the LoRA run copied them from the full one's folder) with the same seeds and "
               "evaluation. The LoRA learning rates are the full fine-tunes' times 10, not tuned (the config says so). "
               "Change of each method's own annotator against the base, mean over seeds, with its interval:\n")
    def changes(folder):
        return {(r["method"], r["train_annotator"]): r for r in rows(os.path.join(folder, "report.csv"))
                if r["method"] != "base" and r["train_annotator"] == r["eval_annotator"]}
    cf, cl = changes(full), changes(lora)
    annotators = sorted({a for _, a in cf} & {a for _, a in cl})
    methods = [m for m in dict.fromkeys(m for m, _ in cf) if all((m, a) in cl for a in annotators)]
    records, agreement = [], []
    for a in annotators:
        by_full = sorted(methods, key=lambda m: -float(cf[(m, a)]["change_pct"]))
        by_lora = sorted(methods, key=lambda m: -float(cl[(m, a)]["change_pct"]))
        tau = kendall_tau(by_full, by_lora)
        agreement.append((a, by_full, by_lora, tau))
        for m in methods:
            f, l = cf[(m, a)], cl[(m, a)]
            records.append({"annotator": a, "method": m,
                            "full: change %": f"{float(f['change_pct']):+.1f} [{float(f['change_ci_low']):+.1f}, {float(f['change_ci_high']):+.1f}]",
                            "full: rank": by_full.index(m) + 1,
                            "LoRA: change %": f"{float(l['change_pct']):+.1f} [{float(l['change_ci_low']):+.1f}, {float(l['change_ci_high']):+.1f}]",
                            "LoRA: rank": by_lora.index(m) + 1})
    out.append(markdown_table(records, ["annotator", "method", "full: change %", "full: rank", "LoRA: change %", "LoRA: rank"]))
    out.append("Ranking by mean change, per annotator (best first), and Kendall's tau between the two (1: the same order, "
               "-1: reversed):\n")
    out.append(markdown_table([{"annotator": a, "full": " > ".join(bf), "LoRA": " > ".join(bl), "tau": f"{t:+.2f}"}
                               for a, bf, bl, t in agreement], ["annotator", "full", "LoRA", "tau"]))
    def verdicts(folder):
        return {(r["method"], r["versus"], r["train_annotator"]): r for r in rows(os.path.join(folder, "report-versus.csv"))
                if r["train_annotator"] == r["eval_annotator"]}
    vf, vl = verdicts(full), verdicts(lora)
    pairs = [k for k in vf if k in vl]
    decided = [k for k in pairs if vf[k]["verdict"] in ("better", "worse")]
    same = [k for k in decided if vl[k]["verdict"] == vf[k]["verdict"]]
    reversed_ = [k for k in decided if vl[k]["verdict"] in ("better", "worse") and vl[k]["verdict"] != vf[k]["verdict"]]
    undecided = [k for k in decided if vl[k]["verdict"] not in ("better", "worse")]
    newly = [k for k in pairs if vf[k]["verdict"] not in ("better", "worse") and vl[k]["verdict"] in ("better", "worse")]
    out.append("Method against method on each annotator's own scores (`report-versus.csv` of each run: a difference with "
               "its interval over seeds and prompts, `tie` when the interval holds 0). Where the two runs' verdicts differ:\n")
    differing = [k for k in pairs if vf[k]["verdict"] != vl[k]["verdict"]]
    out.append(markdown_table([{"method": m, "versus": v, "annotator": a,
                                "full": f"{vf[(m, v, a)]['verdict']} ({float(vf[(m, v, a)]['diff_pct']):+.1f}%)",
                                "LoRA": f"{vl[(m, v, a)]['verdict']} ({float(vl[(m, v, a)]['diff_pct']):+.1f}%)"}
                               for m, v, a in differing], ["method", "versus", "annotator", "full", "LoRA"])
               if differing else "None: every verdict is the same.\n")
    mean_tau = sum(t for *_, t in agreement) / len(agreement) if agreement else float("nan")
    same_order = [a for a, bf, bl, _ in agreement if bf == bl]
    out.append(f"**What it says.** Of the {len(decided)} comparisons the full fine-tunes decide (better or worse), "
               f"{len(same)} get the same verdict with LoRA, {len(undecided)} become ties and {len(reversed_)} reverse; "
               f"{len(newly)} comparisons tied in full are decided with LoRA. The order of the methods by mean change is the "
               f"same on {len(same_order)} of {len(agreement)} annotators"
               + (f" ({', '.join(same_order)})" if same_order else "")
               + f"; Kendall's tau averages {mean_tau:+.2f}. "
               + ("So the ranking of the losses holds with LoRA as with full fine-tuning here, within these intervals."
                  if not reversed_ and mean_tau > 0.5 else
                  "So the ranking of the losses does not carry over whole from full fine-tuning to LoRA here: read each "
                  "verdict with its own run.") + "\n")
    out.append("Speed and memory of a LoRA step against a full one are measured by `dde-train bench` (docs/BENCHMARKS.md), "
               "not by these runs' wall clocks, which share the machine with whatever else ran.\n")
    return "\n".join(out)


def main(argv):
    o = arguments(argv)
    if o["screenshot"] == "true" and os.path.exists(os.path.join(o["main"], "report.html")):
        subprocess.run([os.path.join(ROOT, "scripts", "screenshot-report.sh"), o["main"], os.path.join(DOCS, "report-sd15.png"), "19000"],
                       check=True)
    parts = [
        "# Results\n",
        "Generated by `scripts/results.py` from the run folders named above each table; every number is read from a file of "
        "that folder, nothing is typed by hand. To regenerate: run the main job and the scripts named in each section, "
        "then `scripts/results.py` (README, \"Results\"). A difference between two methods is a claim only with its "
        "interval over seeds and prompts (README, \"Intervals\"); `inconclusive` rows say how many seeds or prompts would "
        "decide them if the measured difference and variances are the truth.\n",
        "## The paper's claims here (every run below)\n",
        all_claims([("main job", o["main"]), ("ablation", o["ablation"]), ("segments", o["segments"])]),
        main_section(o["main"]),
        experiment_section(o["ablation"], "The estimation ablation (`scripts/ablate-estimation.sh`)",
                           "scripts/ablate-estimation.sh configs/sd15.conf",
                           "DDE with its bucketed record, DDE-Single (the single-shot estimate alone) and DDE-Step (stepwise "
                           "estimation), each at its own beta and learning rate (`dde-single.*`, `dde-step.*` in the config), "
                           "on every annotator's pairs with the main job's seeds."),
        experiment_section(o["segments"], "Segment training (`scripts/segments.sh`)",
                           "scripts/segments.sh configs/sd15.conf compare.annotators=align",
                           "Uniform trained only on t in one segment of the trajectory (`t_range`), for the paper's segments and "
                           "the full range, on the align annotator's pairs (the paper's Fig. 3 uses CLIP score; align is its "
                           "analog), each segment with the main job's seeds.", charts=["segments.svg"]),
        sweep_section(o["sweep"]),
        sweep_section(o["sweep_ablation"], "The ablation's betas (`scripts/sweep.sh` on DDE-Single and DDE-Step)",
                      "scripts/sweep.sh configs/sd15.conf compare.methods=dde-single,dde-step compare.annotators=pick compare.lr=3e-5"),
        zoo_section(o["zoo"]),
        lora_section(o["cond"], o["lora"]),
    ]
    base_samples(o["main"])
    with open(os.path.join(DOCS, "RESULTS.md.tmp"), "w", encoding="utf-8") as f:
        f.write("\n".join(parts))
    os.replace(os.path.join(DOCS, "RESULTS.md.tmp"), os.path.join(DOCS, "RESULTS.md"))
    block = readme_block(o["main"])
    if block:
        rewrite_readme(block)
    print(f"results: wrote {os.path.relpath(os.path.join(DOCS, 'RESULTS.md'), ROOT)}" + (" and the README's results block" if block else ""))


if __name__ == "__main__":
    main(sys.argv[1:])
