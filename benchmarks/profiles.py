"""Where the time goes: a text summary of the py-spy profiles of ``--profile``.

``python -m benchmarks --profile DIR`` records every dicomwire process with
``py-spy record --format speedscope``; this prints, for each file, the
functions with the most samples on top of the stack (self) and anywhere in
it (total), leaving out samples taken while importing modules::

    python -m benchmarks.profiles DIR/*.speedscope.json
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path


def summarize(path: Path, top: int = 15) -> str:
    doc = json.loads(path.read_text())
    frames = doc["shared"]["frames"]

    def name(index: int) -> str:
        frame = frames[index]
        where = Path(frame.get("file", "?"))
        short = "/".join(where.parts[-2:])
        return f"{frame['name']} ({short}:{frame.get('line', '?')})"

    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    count = 0.0
    importing = {i for i, f in enumerate(frames) if f["name"] == "_find_and_load"}
    for profile in doc["profiles"]:
        for stack, weight in zip(profile["samples"], profile["weights"], strict=True):
            # Imports are start-up, not the measured work: left out.
            if not stack or importing.intersection(stack):
                continue
            count += weight
            own[name(stack[-1])] += weight
            for label in {name(i) for i in stack}:
                total[label] += weight
    if not count:
        return f"{path.name}: no samples outside imports"
    lines = [f"{path.name}: {count:.2f} s sampled (imports left out)"]
    lines += ["  self:"] + [f"    {n / count:6.1%}  {f}" for f, n in own.most_common(top)]
    lines += ["  total:"] + [f"    {n / count:6.1%}  {f}" for f, n in total.most_common(top)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    paths = [Path(p) for p in (sys.argv[1:] if argv is None else argv)]
    if not paths:
        print(__doc__)
        return 2
    for path in paths:
        print(summarize(path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
