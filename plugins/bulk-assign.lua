-- Automation script: give every member listed in a CSV file (first column: e-mail, header optional)
-- a license of one subscription, 20 at a time.
--   selfserve run plugins/bulk-assign.lua SUB people.csv
local sub, file = arg[1], arg[2]
if not sub or not file then error("usage: run bulk-assign.lua SUBSCRIPTION FILE.csv") end

local batch, assigned, skipped = {}, 0, 0
local function flush()
  if #batch == 0 then return end
  local r = ss.exec("license", "assign", sub, table.unpack(batch))
  assigned = assigned + #r.assigned
  skipped = skipped + #r.skipped
  batch = {}
end

for line in io.lines(file) do
  local email = line:match("^%s*([^,%s]+)")
  if email and email:find("@") then
    batch[#batch + 1] = email
    if #batch == 20 then flush() end
  end
end
flush()
local s = ss.exec("subscription", "show", sub)
print(string.format("assigned %d, skipped %d; %d of %d licenses in use", assigned, skipped, s.licenses_assigned, s.licenses_total))
