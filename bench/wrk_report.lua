-- wrk script: rotate over request lines from a file and print the figures as one JSON line.
-- http_errors counts responses with status >= 400.
-- Each line of the file: METHOD<TAB>PATH<TAB>TOKEN<TAB>BODY<TAB>IF_NONE_MATCH (the last two
-- may be empty).
local requests = {}
local counter = 0

function init(args)
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    local method, path, token, body, etag =
      line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t?([^\t]*)\t?(.*)$")
    local headers = {["Accept"] = "application/json"}
    if token ~= "" then headers["Authorization"] = "Bearer " .. token end
    if etag ~= "" then headers["If-None-Match"] = etag end
    if body ~= "" then headers["Content-Type"] = "application/json" else body = nil end
    requests[#requests + 1] = wrk.format(method, path, headers, body)
  end
  file:close()
end

function request()
  counter = counter + 1
  return requests[(counter % #requests) + 1]
end

function done(summary, latency, requests_)
  local errors = summary.errors
  local socket_errors = errors.connect + errors.read + errors.write + errors.timeout
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "http_errors": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, errors.status, socket_errors))
end
