"""Paper-style text tables of a benchmark report."""

from __future__ import annotations

METHOD_ORDER = ("shared_hash", "shared_octree", "shared_triplane", "shared_mlp",
                "inret_hash", "inret_octree", "inret_triplane", "inret_mlp_distilled_hash",
                "inret_mlp_distilled_octree", "inret_mlp_distilled_triplane", "inr2vec", "pointcloud", "multiview")
ABLATION_TITLES = {"shared": "shared (shipped)", "none": "no regularisation", "l2": "L2 only",
                   "both": "L2 + unified decoder", "inr2vec": "inr2vec"}
CORNER = "q \\ g"


def format_report(report: dict) -> str:
    """The same-function table, the cross-function tables side by side, and the goals."""
    lines = [f"INRet benchmark — {report['dataset']}, preset {report['preset']}, {report['device']}",
             f"shapes: {report.get('shapes', {})}, INRs: {report.get('inrs', '?')}, "
             f"skipped sources: {len(report.get('skipped', []))}", ""]
    lines += same_function_table(report["methods"])
    lines += [""] + cross_function_tables(report["cross_function"])
    if "all_architectures" in report:
        lines += [""] + all_architectures_table(report["all_architectures"])
    lines += ["", "goals:"] + [f"  {'yes' if ok else 'NO '}  {text}" for text, ok in goals(report)]
    seconds = report.get("seconds", {})
    lines += ["", "seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in seconds.items())]
    return "\n".join(lines)


def same_function_table(methods: dict) -> list[str]:
    names = [m for m in METHOD_ORDER if m in methods] + [m for m in methods if m not in METHOD_ORDER]
    head = f"{'method':<28}{'mAP@1':>7}{'mAP@5':>7}{'mAP@10':>8}{'F1@10':>7}{'query ms':>10}  (convert/embed/search)"
    lines = ["Same-function retrieval (test split, own shape excluded)", head, "-" * len(head)]
    for name in names:
        m = methods[name]
        lines.append(f"{name:<28}{m['map@1']:>7.3f}{m['map@5']:>7.3f}{m['map@10']:>8.3f}{m['f1@10']:>7.3f}"
                     f"{m['query_ms']:>10.1f}  ({m['convert_ms']:.0f}/{m['embed_ms']:.1f}/{m['search_ms']:.2f})")
    return lines


def cross_function_tables(tables: dict) -> list[str]:
    """The 3x3 mAP@1 matrices (query function x retrieved function) side by side."""
    names = [n for n in ABLATION_TITLES if n in tables]
    if not names:
        return []
    functions = list(tables[names[0]]["matrix"])
    width = 8 + 7 * len(functions)
    blocks = []
    for name in names:
        t = tables[name]
        rows = [f"{ABLATION_TITLES[name]:<{width}}", f"{CORNER:<8}" + "".join(f"{g:>7}" for g in functions)]
        rows += [f"{q:<8}" + "".join(f"{t['matrix'][q][g]:>7.3f}" for g in functions) for q in functions]
        rows.append(f"{'average':<8}{t['average']:>7.3f}  diag {t['same_function']:.3f}".ljust(width))
        blocks.append(rows)
    lines = ["Cross-function retrieval, mAP@1 (query function x retrieved function)"]
    for i in range(len(blocks[0])):
        lines.append("   ".join(b[i] for b in blocks))
    return lines


def all_architectures_table(table: dict) -> list[str]:
    """The shared model's query architecture x retrieved architecture mAP@1 matrix."""
    archs = list(table["matrix"])
    lines = [f"All architectures, shared model, {table['function'].upper()} INRs, mAP@1 "
             "(query architecture x retrieved architecture)", f"{CORNER:<10}" + "".join(f"{g:>10}" for g in archs)]
    lines += [f"{q:<10}" + "".join(f"{table['matrix'][q][g]:>10.3f}" for g in archs) for q in archs]
    lines.append(f"average {table['average']:.3f}, diagonal {table['same_architecture']:.3f}")
    return lines


def goals(report: dict) -> list[tuple[str, bool]]:
    """The issue's targets for the quick preset, checked against the figures."""
    out = []
    m, cross = report["methods"], report["cross_function"]
    if "inret_hash" in m and "inr2vec" in m:
        gap = m["inret_hash"]["map@1"] - m["inr2vec"]["map@1"]
        out.append((f"INRet (hash) mAP@1 >= inr2vec + 0.10 (gap {gap:+.3f})", gap >= 0.10))
    for arch, floor in (("hash", 0.71), ("octree", 0.71), ("triplane", 0.71), ("mlp", 0.60)):
        if f"shared_{arch}" in m:
            v = m[f"shared_{arch}"]["map@1"]
            out.append((f"shared_{arch} mAP@1 >= {floor:.2f} ({v:.3f})", v >= floor))
    best_baseline = max((m[b]["map@1"] for b in ("inr2vec", "pointcloud", "multiview") if b in m), default=None)
    if "shared_hash" in m and best_baseline is not None:
        gap = m["shared_hash"]["map@1"] - best_baseline
        out.append((f"shared_hash >= best of inr2vec / point cloud / multi-view + 0.10 (gap {gap:+.3f})",
                    gap >= 0.10))
    if "shared" in cross:
        gap = cross["shared"]["average"] - cross["shared"]["same_function"]
        out.append((f"shared: cross-function average within 0.03 of same-function (gap {gap:+.3f})", gap >= -0.03))
    if "all_architectures" in report:
        t = report["all_architectures"]
        gap = t["average"] - t["same_architecture"]
        out.append((f"shared: all-architectures average within 0.05 of its diagonal (gap {gap:+.3f})", gap >= -0.05))
    if "both" in cross:
        gap = cross["both"]["average"] - cross["both"]["same_function"]
        out.append((f"cross-function average within 0.03 of same-function with both (gap {gap:+.3f})",
                    gap >= -0.03))
    if "none" in cross:
        off = _off_diagonal(cross["none"]["matrix"])
        out.append((f"no regularisation collapses across functions (off-diagonal mean {off:.3f})", off < 0.3))
    for name in ("inret_hash", "inret_octree", "inret_triplane"):
        if name in m:
            out.append((f"{name} query under 20 ms ({m[name]['query_ms']:.1f} ms)", m[name]["query_ms"] < 20))
    return out


def _off_diagonal(matrix: dict) -> float:
    values = [v for q, row in matrix.items() for g, v in row.items() if q != g]
    return sum(values) / max(1, len(values))
