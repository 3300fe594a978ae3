"""Quality gate and embedder on a fixed sample of recorded frames, for the x86-64 / arm64 comparison.

Run (any architecture): python bench/arm64_compare.py --frames DIR --out results.json
   or: python bench/arm64_compare.py --compare x86.json arm64.json
The first form writes, per frame, the gate's codes and the L2-normalised embedding of the face (the gate's
landmarks, aligned as the matcher does). The second prints the comparison: same codes on every frame, and the
cosine of each pair of embeddings (the goal is >= 0.999). bench/arm64_check.sh runs both forms.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from terminal.analysis.gate import QualityGate
from terminal.camera.recording import list_images, read_image_rgb
from terminal.config import Config
from terminal.matching.align import align_face
from terminal.matching.embedder import load_embedder


def run(frames: Path, out: Path, models: Path | None) -> int:
    """Analyse every image of ``frames`` (image mode: each stands alone) and write the results as JSON."""
    cfg = Config() if models is None else Config.model_validate({"models": {"dir": str(models)}})
    rows = []
    t0 = time.monotonic()
    embedder = load_embedder(cfg)
    with QualityGate.from_config(cfg, mode="image") as gate:
        for path in list_images(frames):
            img = read_image_rgb(path)
            verdict = gate.analyze(img)
            row: dict[str, object] = {
                "frame": path.name,
                "passed": verdict.passed,
                "codes": sorted(verdict.failures),
                "n_faces": verdict.n_faces,
            }
            if verdict.face is not None:
                emb = embedder.embed(align_face(img, verdict.face.landmarks))
                row["embedding"] = [float(x) for x in np.asarray(emb, dtype=np.float64).ravel()]
            rows.append(row)
    report = {
        "machine": platform.machine(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "seconds": round(time.monotonic() - t0, 1),
        "frames": rows,
    }
    out.write_text(json.dumps(report))
    print(f"{platform.machine()}: {len(rows)} frames in {report['seconds']} s -> {out}")
    return 0


def compare(a_path: Path, b_path: Path, min_cosine: float) -> int:
    """Per frame: same codes, and cosine of the embeddings; exit 1 if any frame differs."""
    a, b = json.loads(a_path.read_text()), json.loads(b_path.read_text())
    rows_b = {r["frame"]: r for r in b["frames"]}
    same, cosines, bad = 0, [], []
    for ra in a["frames"]:
        rb = rows_b.get(ra["frame"])
        if rb is None:
            bad.append(f"{ra['frame']}: missing on {b['machine']}")
            continue
        if ra["codes"] == rb["codes"] and ra["passed"] == rb["passed"]:
            same += 1
        else:
            bad.append(f"{ra['frame']}: codes {ra['codes']} vs {rb['codes']}")
        if ("embedding" in ra) != ("embedding" in rb):
            bad.append(f"{ra['frame']}: a face on one machine only")
        elif "embedding" in ra:
            ea, eb = np.array(ra["embedding"]), np.array(rb["embedding"])
            cos = float(ea @ eb / max(np.linalg.norm(ea) * np.linalg.norm(eb), 1e-12))
            cosines.append(cos)
            if cos < min_cosine:
                bad.append(f"{ra['frame']}: cosine {cos:.6f} < {min_cosine}")
    n = len(a["frames"])
    print(
        f"{a['machine']} (python {a['python']}, numpy {a['numpy']}, {a['seconds']} s) vs "
        f"{b['machine']} (python {b['python']}, numpy {b['numpy']}, {b['seconds']} s)"
    )
    print(f"same gate codes: {same}/{n} ({100 * same / max(n, 1):.0f}%)")
    if cosines:
        print(f"embeddings: {len(cosines)}, cosine min {min(cosines):.6f}, mean {float(np.mean(cosines)):.6f}")
    for line in bad:
        print("DIFFERS:", line)
    return 1 if bad or same != n else 0


def main() -> int:
    """Command line: analyse a folder, or compare two result files."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=Path, help="folder of recorded frames")
    ap.add_argument("--out", type=Path, help="result file to write")
    ap.add_argument("--models", type=Path, default=None, help="models directory (default: [models] dir)")
    ap.add_argument("--compare", nargs=2, type=Path, metavar=("A", "B"), help="compare two result files")
    ap.add_argument("--min-cosine", type=float, default=0.999)
    args = ap.parse_args()
    if args.compare:
        return compare(args.compare[0], args.compare[1], args.min_cosine)
    if args.frames is None or args.out is None:
        ap.error("--frames and --out are needed (or --compare A B)")
    return run(args.frames, args.out, args.models)


if __name__ == "__main__":
    sys.exit(main())
