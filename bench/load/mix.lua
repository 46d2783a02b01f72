-- wrk script: a mix of the API's requests, as a population of clients would send them.
--   wrk ... -s bench/load/mix.lua URL -- TOKEN PROJECT IDS_FILE
-- IDS_FILE holds one item id per line (real ids of PROJECT), used for details and markers.
-- Mix: list 30%, filtered list 20%, detail 20%, count 10%, next page by marker 20%.
-- wrk counts every status other than 2xx/3xx as "Non-2xx"; the first few are printed for diagnosis.

local token, project, ids
local kinds = {}
local printed = 0

local mix = {{"list", 30}, {"filtered", 20}, {"detail", 20}, {"count", 10}, {"page", 20}}
local filters = {
  "status=available&limit=20",
  "status=error&sort=name:asc,created_at:desc&limit=50",
  "name=web&limit=100",
  "image_type=backup&dec=false&sort=protected_at:desc&limit=50",
  "start_time=2000-01-01T00:00:00Z&end_time=2100-01-01T00:00:00Z&sort=updated_at:asc&limit=10",
  "resource_name=db&sort=status,name&limit=25",
}

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(args)
  math.randomseed(1000 + thread_number)  -- each thread its own sequence, the same on every run
  token, project = args[1], args[2]
  ids = {}
  for line in io.lines(args[3]) do
    if #line > 0 then ids[#ids + 1] = line end
  end
  for _, entry in ipairs(mix) do
    for _ = 1, entry[2] do kinds[#kinds + 1] = entry[1] end
  end
  wrk.headers["X-Auth-Token"] = token
  wrk.headers["Accept"] = "application/json"
end

local function random_id()
  return ids[math.random(#ids)]
end

function request()
  local kind = kinds[math.random(#kinds)]
  local base = "/v1/" .. project .. "/checkpoint_items"
  local path
  if kind == "list" then
    path = base .. "?limit=50"
  elseif kind == "filtered" then
    path = base .. "?" .. filters[math.random(#filters)]
  elseif kind == "detail" then
    path = base .. "/" .. random_id()
  elseif kind == "count" then
    path = base .. "/count?status=available"
  else
    path = base .. "?limit=50&marker=" .. random_id()
  end
  return wrk.format("GET", path)
end

function response(status, headers, body)
  if status ~= 200 and printed < 5 then
    printed = printed + 1
    io.stderr:write(string.format("non-200: %d %s\n", status, string.sub(body or "", 1, 200)))
  end
end
