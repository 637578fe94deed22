-- License limits: at most 25 licenses per subscription for people who are not admins. Trials are
-- not capped here (the catalog sets their size); one larger than 10 licenses is noted in the audit log.
return {
  name = "license-limits",
  version = "1.0.0",
  description = "25 licenses per subscription for non-admins; trials over 10 licenses noted in the audit log",

  license_limit = function(ctx)
    if ctx.buyer_role ~= "admin" then return 25 end
    return nil
  end,

  before_purchase = function(req)
    if req.trial and req.licenses > 10 then
      -- Allowed: the catalog decides a trial's size. Noted, so that admins can see large trials.
      ss.log("trial of " .. req.product .. " with " .. req.licenses .. " licenses (more than 10)")
    end
  end,

  tests = {
    ["non-admins get 25"] = function(t)
      t.eq(t.plugin.license_limit({ product = "power-bi-pro", buyer = "a@b.c", buyer_kind = "member", buyer_role = "user" }), 25)
    end,
    ["a large trial is allowed"] = function(t)
      t.eq(t.plugin.before_purchase({ product = "power-bi-pro", trial = true, licenses = 25 }), nil)
    end,
    ["admins have no limit from this plugin"] = function(t)
      t.eq(t.plugin.license_limit({ product = "power-bi-pro", buyer = "a@b.c", buyer_kind = "member", buyer_role = "admin" }), nil)
    end,
  },
}
