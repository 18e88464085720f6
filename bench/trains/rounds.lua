--[[
rounds.lua — benchmark train for the federation round trip: each station
returns its row count; combine asks for another round until params.rounds
rounds are done, then returns the total. Trivial on purpose: what is timed
is the federation (sign, post, long polls, sandbox runs, seals, combine).
]]
return {
  name = "bench-rounds", version = "1.0.0",
  params = { rounds = "integer" },
  station = function(data, params, round) return { n = data:nrows() } end,
  combine = function(results, params, round)
    local n = 0
    for _, r in ipairs(results) do n = n + r.n end
    if round < (params.rounds or 1) then
      return { done = false, params = { rounds = params.rounds } }
    end
    return { done = true, result = { n = n, rounds = round } }
  end,
}
