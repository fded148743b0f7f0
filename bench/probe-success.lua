-- wrk script: counts probes whose answer says the probe succeeded
-- (OK_PATTERN, a Lua pattern, found in a 200 body) apart from failed ones.
local pattern = os.getenv("OK_PATTERN") or "probe_success 1"
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  ok = 0
  bad = 0
end

function response(status, headers, body)
  if status == 200 and body and body:find(pattern) then
    ok = ok + 1
  else
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local o, b = 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok")
    b = b + t:get("bad")
  end
  io.write(string.format("RESULT ok=%d bad=%d\n", o, b))
end
