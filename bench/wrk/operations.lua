-- One wrk script for every operation: BENCH_OP picks it, BENCH_DATA names the users file written by
-- bench/load.py ("user_id token task_id task_id ..." per line; "delete" lines hold ids to delete once).
local op = os.getenv("BENCH_OP")
local unpack = table.unpack or unpack  -- wrk embeds LuaJIT (Lua 5.1)
local users, deletable = {}, {}
local threads, counter = {}, 0

function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local function load(path)
  for line in io.lines(path) do
    local fields = {}
    for field in line:gmatch("%S+") do table.insert(fields, field) end
    if fields[1] == "delete" then
      table.insert(deletable, {user = fields[2], token = fields[3], id = fields[4]})
    else
      table.insert(users, {id = fields[1], token = fields[2], tasks = {unpack(fields, 3)}})
    end
  end
end

local next_delete
function init(args)
  load(os.getenv("BENCH_DATA"))
  math.randomseed(os.time() + index)
  next_delete = index + 1  -- each thread deletes its own stride of ids, so no id is deleted twice
end

local function call(method, user, path, body)
  local headers = {["Authorization"] = "Bearer " .. user.token}
  if body then headers["Content-Type"] = "application/json" end
  return wrk.format(method, "/api/" .. user.id .. path, headers, body)
end

local function pick() return users[math.random(#users)] end
local function task_of(user) return user.tasks[math.random(#user.tasks)] end

-- One POST /batch of 100 creates: the same 100 tasks as 100 `create` requests, in one request and transaction.
local creates = {}
for n = 1, 100 do creates[n] = '{"op":"create","body":{"title":"bench task","priority":"high"}}' end
local batch_body = '{"operations":[' .. table.concat(creates, ",") .. ']}'

local actions = {
  list = function(u) return call("GET", u, "/tasks?limit=20") end,
  get = function(u) return call("GET", u, "/tasks/" .. task_of(u)) end,
  create = function(u) return call("POST", u, "/tasks", '{"title":"bench task","priority":"high"}') end,
  -- Every request one user's: an offline queue flushed, an import (all its creates wait for one counter row).
  create_one_user = function(u) return call("POST", users[1], "/tasks", '{"title":"bench task","priority":"high"}') end,
  update = function(u) return call("PUT", u, "/tasks/" .. task_of(u), '{"title":"renamed by bench"}') end,
  complete = function(u) return call("PATCH", u, "/tasks/" .. task_of(u) .. "/complete") end,
  batch = function(u) return call("POST", u, "/batch", batch_body) end,
}

function request()
  if op == "delete" then
    local victim = deletable[next_delete]
    next_delete = next_delete + tonumber(os.getenv("BENCH_THREADS"))
    if victim then
      return call("DELETE", {id = victim.user, token = victim.token}, "/tasks/" .. victim.id)
    end
    return actions.get(pick())  -- the pool ran dry: the report counts these separately
  end
  if op == "mix" then  -- 70 % reads, 20 % updates, 10 % creates
    local roll = math.random()
    if roll < 0.35 then return actions.list(pick()) end
    if roll < 0.70 then return actions.get(pick()) end
    if roll < 0.80 then return actions.update(pick()) end
    if roll < 0.90 then return actions.complete(pick()) end
    return actions.create(pick())
  end
  return actions[op](pick())
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"errors_status": %d, "errors_timeout": %d, "errors_connect": %d, "errors_read": %d, "errors_write": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, errors.status, errors.timeout, errors.connect, errors.read, errors.write))
end
