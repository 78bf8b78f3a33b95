-- wrk script for `make bench`: POST-only load, one new order per request, no form GET before it.
--
-- Used for both sides of "order POST vs the floor": the product's /order/ and the floor app's
-- /order/ (stack/bench/floor/). Each request carries a client-chosen CSRF secret as both the
-- csrftoken cookie and the csrfmiddlewaretoken field (Django accepts the unmasked secret), and a
-- fresh UUID where the body says @TOKEN@ (the product's one-time form_token: every POST a new order).
-- Arguments (after --): the path, the url-encoded body with @CSRF@ and @TOKEN@, the expected status.
-- At the end it prints one line "BENCH_JSON {...}" like order.lua (latencies in µs).

-- setup() collects the threads so done() can read their counters (threads.lua, beside this file)
local threads = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "threads.lua")

local path, template, expected = "/order/", "", 303
local csrf
local cookies = {}
posts, errors = 0, 0
local CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
local HEX = "0123456789abcdef"

local function random_from(chars, n)
  local out = {}
  for i = 1, n do
    local k = math.random(1, #chars)
    out[i] = chars:sub(k, k)
  end
  return table.concat(out)
end

function init(args)
  path, template, expected = args[1] or path, args[2] or template, tonumber(args[3] or "303")
  math.randomseed(os.time() + (id or 0) * 7919)
  csrf = random_from(CHARS, 32)
  cookies["csrftoken"] = csrf
end

local function uuid4()
  local h = random_from(HEX, 32)
  return h:sub(1, 8) .. "-" .. h:sub(9, 12) .. "-4" .. h:sub(14, 16) .. "-a" .. h:sub(18, 20) .. "-" .. h:sub(21, 32)
end

function request()
  local parts = {}
  for name, value in pairs(cookies) do
    table.insert(parts, name .. "=" .. value)
  end
  local body = template:gsub("@CSRF@", csrf):gsub("@TOKEN@", uuid4())
  return wrk.format("POST", path, {
    ["Cookie"] = table.concat(parts, "; "),
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36 pizza-bench",
  }, body)
end

function response(status, headers, body)
  local value = headers["Set-Cookie"] or headers["set-cookie"]
  if value then
    local name, v = value:match("^%s*([^=;%s]+)=([^;]*)")
    if name and name ~= "csrftoken" then cookies[name] = v end
  end
  if status == expected then
    posts = posts + 1
  else
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local total_posts, total_errors = 0, 0
  for _, thread in ipairs(threads) do
    total_posts = total_posts + (thread:get("posts") or 0)
    total_errors = total_errors + (thread:get("errors") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"duration_us":%d,"requests":%d,"posts":%d,"post_errors":%d,' ..
    '"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},"non_2xx_3xx":%d,' ..
    '"latency_us":{"p50":%.1f,"p90":%.1f,"p99":%.1f,"max":%.1f}}\n',
    summary.duration, summary.requests, total_posts, total_errors,
    e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
