-- Paced load for benches/paced.sh: runs one scenario script of the side-by-side harness
-- (../shared/perf/wrk/SCENARIO.lua), but each connection pauses between an answer and its
-- next request, for a time drawn from an exponential distribution of mean PERF_PAUSE_MS.
-- Many connections pausing at random add up to requests arriving at random at a steady
-- rate, as a server's users make them, instead of wrk's closed loop that keeps every
-- connection busy (which measures the latency of a saturated server, not of a loaded one).
-- wrk times a request from its sending, so the pause is not in the latency.
--   PERF_SCENARIO_LUA  path of the scenario script
--   PERF_PAUSE_MS      mean pause in milliseconds (wrk's timers have 1 ms steps)
dofile(os.getenv("PERF_SCENARIO_LUA"))

local mean = tonumber(os.getenv("PERF_PAUSE_MS") or "10")
local scenario_init = init

function init(args)
  -- every thread its own sequence, so connections do not pause in step
  math.randomseed(os.time() + (thread_index or 0) * 7919)
  scenario_init(args)
end

function delay()
  return math.floor(-mean * math.log(1 - math.random()) + 0.5)
end
