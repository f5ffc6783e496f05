-- wrk script of bench/explorer-load: requests go through the paths of the file named by
-- PATHS_FILE (one a line) in turn, from a random start, so that 100 connections spread over
-- the list (record pages of every chain) instead of asking for one page all at once.
local paths = {}
for line in io.lines(os.getenv("PATHS_FILE")) do
    if line ~= "" then paths[#paths + 1] = line end
end
if #paths == 0 then error("no paths in " .. os.getenv("PATHS_FILE")) end

local position = 0

function init(args)
    position = math.random(0, #paths - 1)
end

function request()
    position = position % #paths + 1
    return wrk.format("GET", paths[position])
end
