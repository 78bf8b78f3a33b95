-- wrk script for `make bench`: every wrk connection plays one customer placing orders in a loop.
--
--   1. GET  /order/                      -> read csrfmiddlewaretoken, form_token, shown_by and the
--                                           exposure beacon's URL (data-seen) from the HTML
--   1b. GET /seen/<token>                -> expect 204: what the page's script does once shown (the
--                                           exposure; recorded once per visitor, variant and day)
--   2. POST /order/ (form + CSRF cookie) -> expect 303 and a Location
--   3. GET  <Location>                   -> expect 200 (the confirmation page)
--
-- It says it is a browser (User-Agent Mozilla/...): the app refuses exposures from HTTP libraries.
--
-- Run it with as many wrk threads as connections (-t N -c N): wrk calls request()/response() per
-- thread, so one connection per thread keeps each customer's three steps in order.
-- Arguments (after --): the pizza id to order.
-- At the end it prints one line "BENCH_JSON {...}" with counts and per-step latencies (µs).

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
end

-- main state: setup() collects the threads so done() can read their counters (threads.lua, beside this file)
local threads = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "threads.lua")

-- per-thread state ------------------------------------------------------------------------------
local pizza = "1"
local step = 1            -- 1 form GET, 4 beacon GET, 2 POST, 3 confirmation GET
local csrf_cookie         -- a client-chosen CSRF secret, as a returning browser would carry
local cookies = {}        -- name -> value, from Set-Cookie (wrk keeps only the last one per response)
local form_csrf, form_token, shown_by, seen_url, location
local sent_at, flow_started
flows, errors, bad_parse, beacons = 0, 0, 0, 0
lat_get, lat_post, lat_confirm, lat_flow, lat_beacon = {}, {}, {}, {}, {}

local CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36 pizza-bench"

function init(args)
  if args[1] then pizza = args[1] end
  math.randomseed(math.floor(now_us()) % 2147483647 + (id or 0) * 7919)
  local secret = {}
  for i = 1, 32 do
    local k = math.random(1, #CHARS)
    secret[i] = CHARS:sub(k, k)
  end
  csrf_cookie = table.concat(secret)
  cookies["csrftoken"] = csrf_cookie
end

local function cookie_header()
  local parts = {}
  for name, value in pairs(cookies) do
    table.insert(parts, name .. "=" .. value)
  end
  return table.concat(parts, "; ")
end

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c)
    if c == " " then return "+" end
    return string.format("%%%02X", string.byte(c))
  end))
end

function request()
  local headers = { ["Cookie"] = cookie_header(), ["User-Agent"] = BROWSER_UA }
  sent_at = now_us()
  if step == 1 then
    flow_started = sent_at
    return wrk.format("GET", "/order/", headers)
  elseif step == 4 then
    return wrk.format("GET", seen_url, headers)
  elseif step == 2 then
    local body = table.concat({
      "csrfmiddlewaretoken=" .. urlencode(form_csrf),
      "form_token=" .. urlencode(form_token),
      "shown_by=" .. urlencode(shown_by or ""),
      "pizza=" .. urlencode(pizza),
      "size=medium",
      "quantity=1",
      "customer_name=" .. urlencode("Bench Customer " .. id),
      "phone=" .. urlencode("+45 12 34 56 78"),
      "address=" .. urlencode("1 Benchmark Street, Loopback"),
      "comments=",
    }, "&")
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    return wrk.format("POST", "/order/", headers, body)
  else
    return wrk.format("GET", location, headers)
  end
end

local function remember_cookie(headers)
  local value = headers["Set-Cookie"] or headers["set-cookie"]
  if value then
    local name, v = value:match("^%s*([^=;%s]+)=([^;]*)")
    if name and name ~= "csrftoken" then cookies[name] = v end
  end
end

local function fail()
  errors = errors + 1
  step = 1
end

function response(status, headers, body)
  local took = now_us() - sent_at
  remember_cookie(headers)
  if step == 1 then
    if status ~= 200 then return fail() end
    form_csrf = body:match('name="csrfmiddlewaretoken" value="([^"]+)"')
    form_token = body:match('name="form_token" value="([^"]+)"')
    if not (form_csrf and form_token) then
      bad_parse = bad_parse + 1
      return fail()
    end
    shown_by = body:match('name="shown_by" value="([^"]+)"')
    seen_url = body:match('data%-seen="(/seen/[^"]+)"')
    table.insert(lat_get, took)
    step = seen_url and 4 or 2
  elseif step == 4 then
    if status ~= 204 then return fail() end
    table.insert(lat_beacon, took)
    beacons = beacons + 1
    step = 2
  elseif step == 2 then
    location = headers["Location"] or headers["location"]
    if status ~= 303 or not location then return fail() end
    table.insert(lat_post, took)
    step = 3
  else
    if status ~= 200 then return fail() end
    table.insert(lat_confirm, took)
    table.insert(lat_flow, now_us() - flow_started)
    flows = flows + 1
    step = 1
  end
end

-- main state again: merge and print ------------------------------------------------------------
local function percentile(sorted, p)
  local n = #sorted
  if n == 0 then return -1 end
  local rank = (p / 100) * (n - 1) + 1
  local lo = math.floor(rank)
  local hi = math.min(lo + 1, n)
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo)
end

local function stats(name, values)
  table.sort(values)
  return string.format('"%s":{"n":%d,"p50":%.1f,"p90":%.1f,"p99":%.1f}', name, #values,
    percentile(values, 50), percentile(values, 90), percentile(values, 99))
end

function done(summary, latency, requests)
  local total_flows, total_errors, total_parse, total_beacons = 0, 0, 0, 0
  local all = { get = {}, post = {}, confirm = {}, flow = {}, beacon = {} }
  for _, thread in ipairs(threads) do
    total_flows = total_flows + (thread:get("flows") or 0)
    total_errors = total_errors + (thread:get("errors") or 0)
    total_parse = total_parse + (thread:get("bad_parse") or 0)
    total_beacons = total_beacons + (thread:get("beacons") or 0)
    for key, name in pairs({ get = "lat_get", post = "lat_post", confirm = "lat_confirm", flow = "lat_flow", beacon = "lat_beacon" }) do
      for _, v in ipairs(thread:get(name) or {}) do table.insert(all[key], v) end
    end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"duration_us":%d,"requests":%d,"flows":%d,"flow_errors":%d,"parse_errors":%d,"beacons":%d,' ..
    '"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},"non_2xx_3xx":%d,' ..
    '"latency_us":{"p50":%.1f,"p90":%.1f,"p99":%.1f,"max":%.1f},%s,%s,%s,%s,%s}\n',
    summary.duration, summary.requests, total_flows, total_errors, total_parse, total_beacons,
    e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    stats("get", all.get), stats("post", all.post), stats("confirm", all.confirm), stats("flow", all.flow),
    stats("beacon", all.beacon)))
end
