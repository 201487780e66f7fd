-- wrk script for guest comment submissions (benches/load.sh).
--   wrk ... -s benches/submit.lua http://127.0.0.1:PORT/api/v1/sites/SLUG/comments -- RUNID PAGES
-- Every request has a unique body and a unique guest email (run id + wrk thread + counter), so
-- duplicate or rate-limit checks never see the same comment twice. PAGES > 1 spreads the
-- submissions over that many thread uris (/bench/submit/0/ ...); 1 sends them all to one page.

local threads = {}

setup = function(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

local counter = 0
local runid = "run"
local pages = 1
statuses = {}
err_sample = nil

local words = {
  "latency", "throughput", "Postgres", "the embed widget", "moderation", "markdown", "replies",
  "a static site", "caching", "the thread page", "guest comments", "durability", "fsync",
}

init = function(args)
  runid = args[1] or "run"
  pages = tonumber(args[2] or "1") or 1
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

request = function()
  counter = counter + 1
  local uri
  if pages > 1 then
    uri = string.format("/bench/submit/%d/", (counter * 7 + tid) % pages)
  else
    uri = "/bench/submit/"
  end
  local w1 = words[(counter % #words) + 1]
  local w2 = words[((counter + tid * 5) % #words) + 1]
  local body = string.format(
    '{"uri":"%s","body":"Load-test comment **%s-%d-%d** about *%s* and %s. '
      .. 'See [the docs](https://example.org/docs/%d) and `cfg.workers = %d`.\\n\\n'
      .. '- first point on %s\\n- second point\\n\\n> quoted line %d",'
      .. '"guest":{"name":"Bench Guest %d","email":"b-%s-%d-%d@bench.example"}}',
    uri, runid, tid, counter, w1, w2, counter, tid, w2, counter, tid, runid, tid, counter)
  return wrk.format(nil, nil, nil, body)
end

response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status >= 300 and err_sample == nil then
    err_sample = status .. " " .. string.sub(body or "", 1, 300)
  end
end

done = function(summary, latency, requests)
  local all = {}
  local sample = nil
  for _, t in ipairs(threads) do
    local st = t:get("statuses") or {}
    for code, n in pairs(st) do
      all[code] = (all[code] or 0) + n
    end
    sample = sample or t:get("err_sample")
  end
  local codes = {}
  for code, n in pairs(all) do
    table.insert(codes, string.format("%d:%d", code, n))
  end
  table.sort(codes)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "RESULT requests=%d duration_s=%.3f rps=%.1f p50_us=%.0f p90_us=%.0f p99_us=%.0f max_us=%.0f "
      .. "non2xx=%d err_connect=%d err_read=%d err_write=%d err_timeout=%d bytes=%d statuses=%s\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.status, e.connect, e.read, e.write, e.timeout, summary.bytes, table.concat(codes, ",")))
  if sample then
    io.write("ERROR_SAMPLE " .. string.gsub(sample, "\n", " ") .. "\n")
  end
end
