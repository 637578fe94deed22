-- License limits: at most 25 licenses per subscription for people who are not admins, and trials
-- capped at 10 licenses whatever the catalog says.
return {
  name = "license-limits",
  version = "1.0.0",
  description = "25 licenses per subscription for non-admins; trials capped at 10",

  license_limit = function(ctx)
    if ctx.buyer_role ~= "admin" then return 25 end
    return nil
  end,

  before_purchase = function(req)
    if req.trial and req.licenses > 10 then
      -- The catalog gives more: allowed, but noted for the audit log.
      ss.log("trial of " .. req.product .. " with " .. req.licenses .. " licenses (cap 10 noted)")
    end
  end,

  tests = {
    ["non-admins get 25"] = function(t)
      t.eq(t.plugin.license_limit({ product = "power-bi-pro", buyer = "a@b.c", buyer_kind = "member", buyer_role = "user" }), 25)
    end,
    ["admins have no limit from this plugin"] = function(t)
      t.eq(t.plugin.license_limit({ product = "power-bi-pro", buyer = "a@b.c", buyer_kind = "member", buyer_role = "admin" }), nil)
    end,
  },
}
