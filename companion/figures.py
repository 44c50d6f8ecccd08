"""`companion figures`: every figure of the course, made by running the lectures, and an index page.

The same seed gives the same figures: the gallery runs with deterministic TensorFlow ops.
"""

from pathlib import Path

from companion import catalog


def make(topics=(), *, out="figures", format="png", fast=None, seed=0):
    """Run the lectures of `topics` (all written lectures when empty), writing their figures under
    `out`, then `out/index.md` listing every figure with its caption. Returns the index's Path and
    the runs (each says whether it landed in its lecture's band: `run.in_band`)."""
    topics = [catalog.require_topic(t) for t in topics] or catalog.written_topics()
    for topic in topics:
        catalog.load(topic)  # a clear error for a lecture not written yet, before any work
    from companion.seeding import set_seed

    set_seed(seed, deterministic=True)
    out = Path(out)
    sections, runs = [], []
    for topic in topics:
        lecture = catalog.load(topic)
        run = lecture.run(fast=fast, seed=seed, out=out, format=format)
        sections.append((lecture, run.figures))
        runs.append(run)
    return write_index(out, sections), runs


def write_index(out, sections):
    """Write `out/index.md`: a section per lecture, each figure as an image with its caption."""
    lines = ["# Course figures", "",
             "Made by `companion figures`; each figure comes from the lecture step named beside it.", ""]
    for lecture, figures in sections:
        lines += [f"## {lecture.title} (`{lecture.topic}`)", ""]
        for figure in figures:
            relative = Path(figure.path).relative_to(out).as_posix()
            lines += [f"![{figure.caption}]({relative})", "",
                      f"*{relative}* (step {figure.step}): {figure.caption}", ""]
    index = out / "index.md"
    index.parent.mkdir(parents=True, exist_ok=True)
    index.write_text("\n".join(lines), encoding="utf-8")
    return index
