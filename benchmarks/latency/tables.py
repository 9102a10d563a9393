"""The Markdown tables the latency benchmark prints (and benchmarks/README.md quotes)."""

from critical_path import GOAL


def report(results: list[dict]) -> str:
    """The summary table of every run, then per run its critical path, overhead and a row per asset."""
    lines = ["| mode | PIPELINE_PARALLEL_STEPS | submit->SUCCESS s | critical path s | sum of latencies s "
             f"| overhead s | {GOAL:g} x CP + overhead s | goal met | longest measured chain s | load 1-min before/after |",
             "|---|---|---:|---:|---:|---:|---:|---|---:|---|"]
    for r in results:
        lines.append(
            f"| {r['mode']} | {r['parallel_steps'] or 'unset (default)'} | {r['wall']:.1f} | {r['critical_path']:.1f} "
            f"| {r['sum_latencies']:.1f} | {r['overhead']:.1f} | {r['goal']:.1f} "
            f"| {'**met**' if r['wall'] <= r['goal'] else '**not met**'} ({r['wall'] / r['goal']:.2f}x) "
            f"| {r['measured_chain']:.1f} | {r['load_before'][0]:.1f} / {r['load_after'][0]:.1f} |")
    for r in results:
        lines += ["", f"{r['mode']} ({r['project']}): critical path "
                  f"{' -> '.join(f'{a} {c:.1f}' for a, c in r['critical_assets'].items())} "
                  f"= {r['critical_path']:.1f} s; longest measured chain {' -> '.join(r['measured_chain_assets'])}; "
                  f"requests {r['requests']}, {r['output_tokens']} output tokens, peak in flight "
                  f"{r['peak_in_flight']}; overhead {r['overhead']:.1f} s = {r['before_steps']:.1f} before the first "
                  f"step (run worker start {r['worker_start']:.1f}) + {r['between_steps']:.1f} between steps + "
                  f"{r['after_steps']:.1f} after the last" + (f"; {r['unattributed']} requests outside any step"
                                                               if r["unattributed"] else ""), "",
                  "| asset | requests | modelled s | measured step s | measured - modelled s | start +s | end +s "
                  "| step start -> 1st request s | last answer -> step end s |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
        for name, a in r["assets"].items():
            asked = ", ".join(f"{role} {n}" for role, n in a["requests"].items() if n) or "-"
            retry = f" ({a['attempts']} attempts)" if a["attempts"] > 1 else ""
            edges = " | ".join(f"{a[k]:.1f}" if k in a else "-" for k in ("before_first", "after_last"))
            lines.append(f"| {name}{retry} | {asked} | {a['modelled']:.1f} | {a['measured']:.1f} "
                         f"| {a['measured'] - a['modelled']:.1f} | {a['start']:.1f} | {a['end']:.1f} | {edges} |")
        done = r.get("metadata", {})
        shown = [f"{asset}.{key} {done[asset][key]:g}" for asset, keys in WORK_DONE.items() for key in keys
                 if key in done.get(asset, {})]
        if shown:
            lines += ["", f"work done: {', '.join(shown)}"]
    return "\n".join(lines)


# what the steps that render did, from their materialisations' metadata
WORK_DONE = {"images": ("stills_encoded_ahead",), "video": ("stills", "stills_encoded", "moving_segments")}
