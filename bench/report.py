"""Tables and plots of bench/run's results: write(results, folder) writes results.json,
results.md, throughput.png and latency.png. Also a program, to redo them from a results.json:

    bench/report.py bench/results/results.json [FOLDER]
"""
import json
import os
import sys


def _limit(rows, connection):
    """pg_recvlogical's events/s over CONNECTION (TCP for the Kafka-side rows)."""
    want = connection if connection in ("TCP loopback", "Unix socket") else "TCP loopback"
    return next((r["events_per_s"] for r in rows
                 if r["reader"].startswith("pg_recvlogical") and r["connection"] == want), None)


def _find(rows, prefix, connection="TCP loopback"):
    return next((r for r in rows if r["reader"].startswith(prefix)
                 and r["connection"] == connection), None)


def headline(results):
    """The comparison lines: salescdc vs Debezium, events/s, RSS and p99 latency."""
    rows, lat = results["throughput"], results["latency"]
    dbz = _find(rows, "Debezium")
    lines = []
    for prefix in ("salescdc-connector, exactly-once", "salescdc-connector, idempotent"):
        ours = _find(rows, prefix)
        if ours and dbz:
            lines.append(f"{prefix} / Debezium (TCP): {ours['events_per_s'] / dbz['events_per_s']:.2f}x"
                         f" events/s ({ours['events_per_s']:,} vs {dbz['events_per_s']:,}); peak "
                         f"RSS {ours['peak_rss_mb']:.0f} MB vs {dbz['peak_rss_mb']:.0f} MB "
                         f"(Debezium/salescdc {dbz['peak_rss_mb'] / ours['peak_rss_mb']:.1f}x); "
                         f"CPU {ours['cpu_s']:.1f} s vs {dbz['cpu_s']:.1f} s")
    for conn in ("TCP loopback", "Unix socket"):
        ours, limit = _find(rows, "salescdc-connector, exactly-once", conn), _limit(rows, conn)
        if ours and limit:
            lines.append(f"salescdc-connector exactly-once / pg_recvlogical ({conn}): "
                         f"{ours['events_per_s'] / limit:.2f}")
    if len(lat) == 2 and all(l["p99_ms"] for l in lat):
        lines.append(f"p99 commit->consumer latency at {lat[0]['rate']:,} changes/s: "
                     f"{lat[0]['reader']} {lat[0]['p99_ms']:.0f} ms, {lat[1]['reader']} "
                     f"{lat[1]['p99_ms']:.0f} ms")
    return lines


def markdown(results):
    rows, m = results["throughput"], results["machine"]
    out = [f"# bench/run results{' (--quick)' if results['quick'] else ''}", "",
           f"Run {results['started']}: {results['changes']:,} orders = "
           f"{results['load']['events']:,} change events ({results['load']['inserted']:,} "
           f"inserts, {results['load']['updated']:,} updates, {results['load']['deleted']:,} "
           f"deletes, {results['load']['transactions']:,} transactions). Machine: "
           f"{m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB, Linux {m['kernel']}, load "
           f"average {'/'.join(str(x) for x in m.get('load_average_at_end', []))} (1/5/15 min, "
           f"at the end: other jobs shared the machine), "
           f"PostgreSQL {m['postgresql']}, Kafka {m['kafka']}, Debezium {results['debezium']}."
           + (f" {results['note']}" if results.get("note") else ""), "",
           "## Throughput (the same WAL for every reader)", "",
           "| reader | connection | events | seconds | events/s | ratio to the limit | "
           "streaming events/s | peak RSS MB | CPU s | CPU µs/event |",
           "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for r in rows:
        limit = _limit(rows, r["connection"])
        ratio = f"{r['events_per_s'] / limit:.2f}" if limit else "-"
        streaming = f"{r['streaming_events_per_s']:,}" if r["streaming_events_per_s"] else "-"
        out.append(f"| {r['reader']} | {r['connection']} | {r['events']:,} | {r['seconds']:.2f} "
                   f"| {r['events_per_s']:,} | {ratio} | {streaming} | {r['peak_rss_mb']:.1f} | "
                   f"{r['cpu_s']:.2f} | {r['cpu_s'] / r['events'] * 1e6:.1f} |")
    notes = {r["reader"]: r["note"] for r in rows if r["note"]}
    out += ["", "Notes: " + "; ".join(f"{k}: {v}" for k, v in notes.items())
            + ". Ratios of Kafka-side stages are to pg_recvlogical over TCP.", "",
            f"## Latency: steady {results['latency'][0]['rate']:,} changes/s"
            if results["latency"] else "## Latency", "",
            "Commit (source.ts_ms) to a read_committed consumer, per event of the measured "
            "phase; before it, a warm-up at the same rate (the reader had caught up with it "
            "before the measured phase began).", "",
            "| reader | connection | warm-up s | seconds | events | p50 ms | p90 ms | p99 ms | "
            "max ms | mean ms | p99 ms incl. warm-up | peak RSS MB | CPU s |",
            "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for l in results["latency"]:
        out.append(f"| {l['reader']} | {l['connection']} | {l['warmup_seconds']} | "
                   f"{l['seconds']} | {l['measured']:,} | {l['p50_ms']} | {l['p90_ms']} | "
                   f"{l['p99_ms']} | {l['max_ms']} | {l['mean_ms']} | "
                   f"{l['with_warmup']['p99_ms']} | {l['peak_rss_mb']:.1f} | {l['cpu_s']:.2f} |")
    out += ["", "## Summary", ""] + [f"- {line}" for line in headline(results)]
    if results["failures"]:
        out += ["", "## FAILED checks", ""] + [f"- {f}" for f in results["failures"]]
    return "\n".join(out) + "\n"


def plots(results, folder):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = results["throughput"]
    colors = {"TCP loopback": "#4c72b0", "Unix socket": "#55a868"}
    fig, ax = plt.subplots(figsize=(10, 0.5 * len(rows) + 1.6))
    labels = [f"{r['reader']}\n{r['connection']}" for r in rows][::-1]
    values = [r["events_per_s"] for r in rows][::-1]
    ax.barh(labels, values, color=[colors.get(r["connection"], "#8172b2") for r in rows][::-1])
    for y, v in enumerate(values):
        ax.text(v, y, f" {v:,}", va="center", fontsize=8)
    ax.set_xlabel("events/s (higher is better)")
    ax.set_title(f"Throughput, {results['load']['events']:,} change events, same WAL "
                 f"({results['machine']['cores']} cores, shared)", fontsize=10)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_xlim(0, max(values) * 1.18)
    fig.tight_layout()
    fig.savefig(os.path.join(folder, "throughput.png"), dpi=110)
    plt.close(fig)

    lat = results["latency"]
    if not lat:
        return
    fig, ax = plt.subplots(figsize=(8, 4))
    keys = ["p50_ms", "p90_ms", "p99_ms", "max_ms"]
    width = 0.8 / len(lat)
    for i, l in enumerate(lat):
        xs = [k + i * width for k in range(len(keys))]
        vals = [l[k] or 0 for k in keys]
        ax.bar(xs, vals, width, label=l["reader"])
        for x, v in zip(xs, vals):
            ax.text(x, v, f"{v:.0f}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks([k + width * (len(lat) - 1) / 2 for k in range(len(keys))])
    ax.set_xticklabels(["p50", "p90", "p99", "max"])
    ax.set_yscale("log")
    ax.set_ylabel("commit -> consumer, ms (log scale, lower is better)")
    ax.set_title(f"Latency at {lat[0]['rate']:,} changes/s, read_committed consumer",
                 fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(folder, "latency.png"), dpi=110)
    plt.close(fig)


def write(results, folder):
    with open(os.path.join(folder, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    with open(os.path.join(folder, "results.md"), "w") as f:
        f.write(markdown(results))
    plots(results, folder)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: bench/report.py RESULTS.json [FOLDER]")
    with open(sys.argv[1]) as f:
        data = json.load(f)
    write(data, sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(sys.argv[1]))
