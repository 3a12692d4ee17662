-- wrk script for bench/ack.py: each thread POSTs its own slice of pre-signed,
-- distinct webhook bodies (one line each: "<signature> <body>"), then counts
-- what came back. done() prints one JSON line that bench/ack.py reads.
-- Arguments after "--": <bodies file> <number of wrk threads>.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local path, nthreads = args[1], tonumber(args[2])
  bodies, signatures = {}, {}
  local line_no = 0
  for line in io.lines(path) do
    if line_no % nthreads == id then
      local space = line:find(" ", 1, true)
      signatures[#signatures + 1] = line:sub(1, space - 1)
      bodies[#bodies + 1] = line:sub(space + 1)
    end
    line_no = line_no + 1
  end
  calls, sent, ok, refused, wrapped = 0, 0, 0, 0, 0
end

-- wrk calls request() once before the run to check the request (that body,
-- number 0, is never sent): `sent` counts from the second call on.
function request()
  local i = calls % #bodies + 1
  calls = calls + 1
  sent = calls - 1
  if calls > #bodies then wrapped = wrapped + 1 end
  return wrk.format("POST", "/webhook", {
    ["Content-Type"] = "application/json",
    ["X-Hub-Signature-256"] = signatures[i],
  }, bodies[i])
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1 else refused = refused + 1 end
end

function done(summary, latency, requests)
  local s, o, r, w = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    s = s + t:get("sent"); o = o + t:get("ok")
    r = r + t:get("refused"); w = w + t:get("wrapped")
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"sent":%d,"ok":%d,"refused":%d,"wrapped":%d,' ..
    '"socket_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, s, o, r, w,
    e.connect + e.read + e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
