#!/usr/bin/env python3
"""Draws bench/cluster-soak.sh's CSV (t_s,node,rss_mib,threads,fds,gc_heap_mib,available) into one SVG with a panel per
measure and a line per node, and prints per node and measure the median and range after the first two minutes.
Plain SVG, no plotting library: python3 bench/plot-soak.py soak.csv soak.svg"""
import csv
import statistics
import sys

MEASURES = [("rss_mib", "RSS (MiB)"), ("threads", "threads"), ("fds", "open file descriptors"), ("gc_heap_mib", "managed heap (MiB)")]
COLOURS = {"n1": "#1f77b4", "n2": "#d62728", "n3": "#2ca02c"}
W, H, PAD_L, PAD_R, PAD_T, PAD_B = 760, 170, 60, 20, 24, 26


def main(src, dst):
    rows = list(csv.DictReader(open(src)))
    nodes = sorted({r["node"] for r in rows})
    t_max = max(float(r["t_s"]) for r in rows) or 1
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H * len(MEASURES)}" font-family="sans-serif" font-size="11">',
           f'<rect width="{W}" height="{H * len(MEASURES)}" fill="white"/>']
    for i, (key, label) in enumerate(MEASURES):
        y0 = i * H
        values = [float(r[key]) for r in rows if r[key]]
        if not values:
            continue
        lo, hi = 0.0, max(values) * 1.1 or 1
        x = lambda t: PAD_L + (W - PAD_L - PAD_R) * t / t_max
        y = lambda v: y0 + PAD_T + (H - PAD_T - PAD_B) * (1 - (v - lo) / (hi - lo))
        out.append(f'<text x="{PAD_L}" y="{y0 + 14}" font-weight="bold">{label}</text>')
        out.append(f'<line x1="{PAD_L}" y1="{y(lo)}" x2="{W - PAD_R}" y2="{y(lo)}" stroke="#888"/>')
        out.append(f'<line x1="{PAD_L}" y1="{y(hi)}" x2="{PAD_L}" y2="{y(lo)}" stroke="#888"/>')
        for frac in (0, 0.5, 1):
            v = lo + (hi - lo) * frac
            out.append(f'<text x="{PAD_L - 6}" y="{y(v) + 4}" text-anchor="end">{v:.0f}</text>')
        for frac in (0, 0.25, 0.5, 0.75, 1):
            out.append(f'<text x="{x(t_max * frac)}" y="{y(lo) + 14}" text-anchor="middle">{t_max * frac / 60:.0f} min</text>')
        for n in nodes:
            pts = [(float(r["t_s"]), float(r[key])) for r in rows if r["node"] == n and r[key]]
            # A gap of more than 30 s (a restart) breaks the line.
            segments, seg, last = [], [], None
            for t, v in pts:
                if last is not None and t - last > 30:
                    segments.append(seg)
                    seg = []
                seg.append((t, v))
                last = t
            segments.append(seg)
            for s in segments:
                if len(s) > 1:
                    d = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in s)
                    out.append(f'<polyline fill="none" stroke="{COLOURS.get(n, "#000")}" stroke-width="1.3" points="{d}"/>')
        for j, n in enumerate(nodes):
            out.append(f'<text x="{W - PAD_R - 120 + j * 40}" y="{y0 + 14}" fill="{COLOURS.get(n, "#000")}">{n}</text>')
    out.append("</svg>")
    open(dst, "w").write("\n".join(out))
    print("node  measure       median   min–max after 2 min   within ±10 % of the median")
    for n in nodes:
        for key, label in MEASURES:
            v = [float(r[key]) for r in rows if r["node"] == n and r[key] and float(r["t_s"]) >= 120]
            if not v:
                continue
            m = statistics.median(v)
            flat = all(abs(a - m) <= 0.1 * m for a in v)
            print(f"{n}    {key:12} {m:8.1f}   {min(v):.1f}–{max(v):.1f}   {'yes' if flat else 'no'}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
