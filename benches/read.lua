-- wrk script for plain GET runs (benches/load.sh): no per-request Lua, only a machine-readable
-- result line at the end, so the client does the same work against colloquy and the baseline.

done = function(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "RESULT requests=%d duration_s=%.3f rps=%.1f p50_us=%.0f p90_us=%.0f p99_us=%.0f max_us=%.0f "
      .. "non2xx=%d err_connect=%d err_read=%d err_write=%d err_timeout=%d bytes=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.status, e.connect, e.read, e.write, e.timeout, summary.bytes))
end
