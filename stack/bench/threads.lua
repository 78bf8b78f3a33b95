-- Shared by order.lua and post.lua, which load it from their own folder with dofile: wrk's setup()
-- numbers each thread (its `id`, which seeds its random numbers) and collects them in the list this
-- returns, so that done() can read every thread's counters.

local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
  table.insert(threads, thread)
end

return threads
