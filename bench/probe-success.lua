-- wrk script: counts probes whose answer says the probe succeeded
-- (OK_PATTERN, a Lua pattern, found in a 200 body) apart from failed ones.
-- With COPIES=N, requests rotate over N copies of the check (`<path>_1` ..
-- `<path>_N`), each wrk thread over its own half, so concurrent requests
-- never ask for the same check (prodready-exporter lets concurrent probes of
-- one check share its evaluation; that would not be like for like).
local pattern = os.getenv("OK_PATTERN") or "probe_success 1"
local copies = tonumber(os.getenv("COPIES") or "1")
local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
  table.insert(threads, thread)
end

function init(args)
  ok = 0
  bad = 0
  n = 0
end

function request()
  if copies <= 1 then
    return wrk.format()
  end
  -- This thread's share of the copies: ids 1 and 2 of 2 threads take
  -- 1..N/2 and N/2+1..N.
  local share = math.floor(copies / 2)
  n = n % share + 1
  local copy = (id - 1) * share + n
  return wrk.format(nil, wrk.path .. "_" .. copy)
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
