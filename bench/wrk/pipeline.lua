-- bench/wrk/pipeline.lua - HTTP/1.1 pipelining for wrk, as in TechEmpower's
-- plaintext test: every "request" wrk sends is DEPTH copies of the request,
-- written as one buffer; wrk counts each response it reads.
--
--   wrk -t1 -c64 -d10s -s bench/wrk/pipeline.lua http://127.0.0.1:PORT/plaintext -- 16
--
-- DEPTH is the first script argument (after "--"); default 16.

init = function(args)
  local depth = tonumber(args[1]) or 16
  local r = {}
  for i = 1, depth do
    r[i] = wrk.format()
  end
  req = table.concat(r)
end

request = function()
  return req
end
