-- wrk script: a plain GET (wrk's own fast path; no request()/response() here), printing the same
-- one-line "BENCH_JSON {...}" summary as order.lua (latencies in µs).
-- `make bench` runs it as is, for the ceiling. With an argument (`-- 1000`), every connection waits
-- that many milliseconds before each request: make chaos's flash crowd (scenario 9), visitors who
-- each load a page a second, shed or served.

function init(args)
  local pause = tonumber(args[1])
  if pause then
    delay = function() return pause end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"duration_us":%d,"requests":%d,' ..
    '"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},"non_2xx_3xx":%d,' ..
    '"latency_us":{"p50":%.1f,"p90":%.1f,"p99":%.1f,"max":%.1f}}\n',
    summary.duration, summary.requests, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
