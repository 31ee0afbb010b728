-- wrk script for the soak (tests/soak/run): POST /reachability bodies read
-- from a file, one JSON query per line, sent in rotation; every answer is
-- checked in response() and the counts are printed by done() as
-- key=value lines.
--   wrk -t2 -c16 -d60s -s tests/soak/queries.lua URL/reachability -- FILE MARK
--
-- FILE holds the rotation. MARK is a string that only the answer to the
-- fixed A/B query contains ("pod":"soak-server"). The runner uploads
-- cluster A as every odd revision and cluster B as every even one, and the
-- fixed query is allowed in A and denied in B, so an answer is right only
-- if its "allowed" agrees with the parity of its own "revision": an answer
-- that mixes two states, or names a revision it was not computed on, shows
-- up as a mismatch.
--
-- Each wrk thread has its own Lua state, so the counters are globals that
-- done() collects with thread:get().

local threads = {}

function setup(thread)
  thread:set("offset", #threads * 3)
  table.insert(threads, thread)
end

local requests = {}
local n = 0
local i = 0
local mark

-- Counters (globals, read by done() through thread:get()).
responses = 0   -- answers received
non200 = 0      -- status other than 200
s5xx = 0        -- status 500-599
torn = 0        -- 200 answers that are not one whole JSON object
fixed = 0       -- 200 answers to the fixed A/B query
mismatch = 0    -- of those, "allowed" disagrees with the revision's cluster
untraced = 0    -- of those, the ingress decision disagrees with "allowed"
rev_min = -1    -- smallest and largest "revision" seen in 200 answers
rev_max = -1
first_bad = ""  -- the first failing answer (status and 200 bytes), for the log

function init(args)
  local path = args[1]
  mark = args[2]
  if path == nil or mark == nil then
    error("usage: wrk ... -s queries.lua URL -- FILE MARK")
  end
  local headers = { ["Content-Type"] = "application/json" }
  for line in io.lines(path) do
    if #line > 0 then
      n = n + 1
      requests[n] = wrk.format("POST", nil, headers, line)
    end
  end
  if n == 0 then
    error(path .. " holds no queries")
  end
  i = (offset or 0) % n
end

function request()
  i = i % n + 1
  return requests[i]
end

local function note_bad(what, status, body)
  if first_bad == "" then
    first_bad = what .. " status=" .. status .. " body=" ..
      string.sub(body or "", 1, 200):gsub("[\r\n]", " ")
  end
end

local function count(body, ch)
  local _, k = string.gsub(body, ch, "")
  return k
end

function response(status, headers, body)
  responses = responses + 1
  if status ~= 200 then
    non200 = non200 + 1
    if status >= 500 and status <= 599 then
      s5xx = s5xx + 1
    end
    note_bad("non-200", status, body)
    return
  end
  -- A whole answer is one JSON object: it ends with "}", names its
  -- revision, and its braces balance (names, labels and the reason
  -- sentences hold no unpaired brace).
  local rev = tonumber(string.match(body, '"revision":(%d+)'))
  if string.sub(body, -1) ~= "}" or rev == nil or
     count(body, "{") ~= count(body, "}") then
    torn = torn + 1
    note_bad("torn", status, body)
    return
  end
  if rev_min < 0 or rev < rev_min then rev_min = rev end
  if rev > rev_max then rev_max = rev end
  if not string.find(body, mark, 1, true) then
    return
  end
  fixed = fixed + 1
  -- The top-level "allowed" is the answer's first member, so the first
  -- match is the verdict, not one of the sides'.
  local allowed = string.match(body, '"allowed":(%a+)')
  local want = (rev % 2 == 1) and "true" or "false"
  if allowed ~= want then
    mismatch = mismatch + 1
    note_bad("mismatch (revision " .. rev .. ", want " .. want .. ")",
             status, body)
    return
  end
  -- The ingress side decides this query: admitted by soak-gate's rule in
  -- A, isolated with no rule in B. A trace from the other state would say
  -- the other decision.
  local decision = (want == "true") and '"decision":"allowed_by_rule"'
                                     or '"decision":"no_rule_matches"'
  if not string.find(body, decision, 1, true) then
    untraced = untraced + 1
    note_bad("trace disagrees", status, body)
  end
end

function done(summary, latency, requests_)
  local keys = { "responses", "non200", "s5xx", "torn", "fixed", "mismatch",
                 "untraced" }
  local total = {}
  for _, k in ipairs(keys) do total[k] = 0 end
  local rmin, rmax, bad = -1, -1, ""
  for _, t in ipairs(threads) do
    for _, k in ipairs(keys) do
      total[k] = total[k] + t:get(k)
    end
    local a, b = t:get("rev_min"), t:get("rev_max")
    if a >= 0 and (rmin < 0 or a < rmin) then rmin = a end
    if b > rmax then rmax = b end
    if bad == "" then bad = t:get("first_bad") end
  end
  local e = summary.errors
  io.write(string.format("requests=%d\n", summary.requests))
  io.write(string.format("duration_us=%d\n", summary.duration))
  io.write(string.format("bytes=%d\n", summary.bytes))
  for _, k in ipairs(keys) do
    io.write(string.format("%s=%d\n", k, total[k]))
  end
  io.write(string.format("rev_min=%d\nrev_max=%d\n", rmin, rmax))
  io.write(string.format("err_connect=%d\nerr_read=%d\nerr_write=%d\n",
                         e.connect, e.read, e.write))
  io.write(string.format("err_status=%d\nerr_timeout=%d\n", e.status,
                         e.timeout))
  io.write(string.format("lat_p50_us=%d\nlat_p99_us=%d\nlat_max_us=%d\n",
                         latency:percentile(50), latency:percentile(99),
                         latency.max))
  io.write("first_bad=" .. bad .. "\n")
end
