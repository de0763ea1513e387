#!/usr/bin/env python3
"""Summarises bench/simulcast.sh output (stdin or files): per case the runs in order and their medians of the node's
CPU µs per forwarded packet (subscribers' received packets) and per received packet (the publisher's, all layers),
and the ratio to the single-layer median.
   bench/simulcast.sh | tee out.txt; bench/simulcast-summary.py out.txt"""
import fileinput, json, statistics

runs = {}
for line in fileinput.input():
    if line.startswith('#') or line.startswith('warmup') or not line.strip():
        continue
    parts = line.split(' ', 5)
    if len(parts) < 6 or not parts[5].startswith('{'):
        continue
    case, n, l1, l5, l15, js = parts
    runs.setdefault(case, []).append((float(l1), json.loads(js)))
base = None
marg = any(d.get('server_marginal_us_per_forwarded_packet') is not None for rs in runs.values() for _, d in rs)
print('| case | layers sent, packets/s | forwarded packets/s | µs / forwarded packet, runs | median | ÷ single | µs / received packet (median) | loss % (max) | latency p50 µs (median) | loadavg 1 min |' + (' idle cores (median) | marginal µs / forwarded packet, runs | median | ÷ single |' if marg else ''))
print('|---|---|---:|---|---:|---:|---:|---:|---:|---|' + ('---:|---|---:|---:|' if marg else ''))
mbase = None
for case, rs in runs.items():
    fwd = [d['server_us_per_forwarded_packet'] for _, d in rs]
    rcv = [d['server_us_per_sent_packet'] for _, d in rs]
    med = statistics.median(fwd)
    if case == 'single':
        base = med
    d0 = rs[0][1]
    layers = '/'.join(str(int(x)) for x in d0['layer_sent_pps']) if d0.get('layer_sent_pps') else str(int(d0['sent_pps']))
    ratio = f'{med / base:.2f}' if base else ''
    print(f"| {case} | {layers} | {statistics.median(d['forwarded_pps'] for _, d in rs):,.0f} | {', '.join(f'{x:.2f}' for x in fwd)} | **{med:.2f}** | {ratio} | "
          f"{statistics.median(rcv):.1f} | {max(d['loss_percent'] for _, d in rs)} | {statistics.median(d['latency_us_p50'] for _, d in rs):.0f} | "
          f"{min(l for l, _ in rs):.2f}–{max(l for l, _ in rs):.2f} |", end='')
    if marg:
        m = [d['server_marginal_us_per_forwarded_packet'] for _, d in rs]
        mm = statistics.median(m)
        if case == 'single':
            mbase = mm
        print(f" {statistics.median(d['server_idle_cores'] for _, d in rs):.3f} | {', '.join(f'{x:.2f}' for x in m)} | **{mm:.2f}** | {f'{mm / mbase:.2f}' if mbase else ''} |", end='')
    print()
