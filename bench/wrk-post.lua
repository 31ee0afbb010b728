-- wrk script for POST /reachability: cycles through request bodies read
-- from a file, one JSON query per line (netpolq-gen --singles-out).
--   wrk -t2 -c16 -d5s -s bench/wrk-post.lua URL -- FILE
-- Each wrk thread has its own Lua state, so each thread keeps its own
-- position; threads start at different offsets so they do not send the same
-- pairs in lockstep.

local requests = {}
local n = 0
local i = 0
local counter = 0

function setup(thread)
  thread:set("offset", counter * 7919)
  counter = counter + 1
end

function init(args)
  local path = args[1]
  if path == nil then
    error("usage: wrk ... -s wrk-post.lua URL -- FILE")
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
