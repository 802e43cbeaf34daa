-- wrk script: introspect many different tokens, one after another (bench/introspect_many.py).
-- Everything but the body is the shared harness's post_form.lua (auth header, the body check,
-- the WRK_JSON summary), loaded from WRK_BASE_SCRIPT. WRK_TOKENS names a file of token
-- values, one per line; each request introspects the next one, each wrk thread starting at
-- its own place in the file.
dofile(os.getenv("WRK_BASE_SCRIPT"))

local base_init = init
local values, next_value = {}, 1

function init(args)
  base_init(args)
  for line in io.lines(os.getenv("WRK_TOKENS")) do
    if line ~= "" then values[#values + 1] = "token=" .. line end
  end
  assert(#values > 0, "no token values in WRK_TOKENS")
  math.randomseed(os.time() + #tostring({}))
  next_value = math.random(#values)
end

function request()
  local body = values[next_value]
  next_value = next_value % #values + 1
  return wrk.format(nil, nil, nil, body)
end
