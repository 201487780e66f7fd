-- wrk script for benches/compare.sh: the same workloads against Colloquy and Isso.
--   wrk ... -s benches/compare.lua http://127.0.0.1:PORT -- MODE RUNID PAGES [SITE]
-- MODE:
--   post-colloquy  POST /api/v1/sites/SITE/comments, {uri, body, guest: {name, email}}
--   post-isso      POST /new?uri=/p/N, {text, author, email, website, parent}
--   read-colloquy  GET /api/v1/sites/SITE/thread?uri=/p/N
--   read-isso      GET /?uri=/p/N
--   counts-isso    POST /count with the JSON list /p/0 .. /p/9
-- Posts carry a unique body and a unique guest email (run id + wrk thread + counter), the same
-- text for both servers, so duplicate or flood checks never see the same comment twice. The
-- page is /p/N with N uniform in 0 .. PAGES-1 (a per-thread random stream, seeded by the wrk
-- thread's number, so both servers get the same sequence of pages).

local threads = {}

setup = function(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

local counter = 0
local mode = "post-colloquy"
local runid = "run"
local pages = 1000
local site = "bench"
statuses = {}
err_sample = nil

local words = {
  "latency", "throughput", "Postgres", "the embed widget", "moderation", "markdown", "replies",
  "a static site", "caching", "the thread page", "guest comments", "durability", "fsync",
}

local function json_list_of_pages(n)
  local parts = {}
  for i = 0, n - 1 do
    table.insert(parts, string.format('"/p/%d"', i))
  end
  return "[" .. table.concat(parts, ",") .. "]"
end

init = function(args)
  mode = args[1] or mode
  runid = args[2] or runid
  pages = tonumber(args[3] or "1000") or 1000
  site = args[4] or site
  math.randomseed(tid * 7919 + pages)
  if mode == "post-colloquy" or mode == "post-isso" or mode == "counts-isso" then
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
  end
  if mode == "post-isso" or mode == "counts-isso" then
    -- Isso answers CORS from its configured host; a browser sends it, so wrk does too.
    wrk.headers["Origin"] = "http://localhost"
    wrk.headers["Referer"] = "http://localhost/"
  end
  if mode == "counts-isso" then
    wrk.body = json_list_of_pages(10)
  end
end

-- The comment's text and author, identical for both servers.
local function comment()
  counter = counter + 1
  local w1 = words[(counter % #words) + 1]
  local w2 = words[((counter + tid * 5) % #words) + 1]
  local text = string.format(
    'Load-test comment **%s-%d-%d** about *%s* and %s. '
      .. 'See [the docs](https://example.org/docs/%d) and `cfg.workers = %d`.\\n\\n'
      .. '- first point on %s\\n- second point\\n\\n> quoted line %d',
    runid, tid, counter, w1, w2, counter, tid, w2, counter)
  local name = string.format("Bench Guest %d", tid)
  local email = string.format("b-%s-%d-%d@bench.example", runid, tid, counter)
  return text, name, email
end

request = function()
  if mode == "counts-isso" then
    return wrk.format(nil, "/count")
  end
  local page = math.random(0, pages - 1)
  if mode == "read-colloquy" then
    return wrk.format(nil, string.format("/api/v1/sites/%s/thread?uri=/p/%d", site, page))
  elseif mode == "read-isso" then
    return wrk.format(nil, string.format("/?uri=/p/%d", page))
  end
  local text, name, email = comment()
  if mode == "post-isso" then
    local body = string.format(
      '{"text":"%s","author":"%s","email":"%s","website":null,"parent":null}', text, name, email)
    return wrk.format(nil, string.format("/new?uri=/p/%d", page), nil, body)
  end
  local body = string.format('{"uri":"/p/%d","body":"%s","guest":{"name":"%s","email":"%s"}}',
    page, text, name, email)
  return wrk.format(nil, string.format("/api/v1/sites/%s/comments", site), nil, body)
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
