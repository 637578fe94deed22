-- Cancellation reasons for a finance team. `budget_cut` needs a comment naming the cost centre.
return {
  name = "finance-reasons",
  version = "1.0.0",
  description = "Cancellation reasons the finance team reports on",

  cancellation_reasons = {
    { code = "budget_cut", label = "Budget was cut", comment_required = true },
    { code = "project_ended", label = "The project ended" },
  },

  before_cancel = function(sub, reason, comment)
    if reason == "budget_cut" and not (comment or ""):match("CC%-%d+") then
      return false, "budget_cut needs the cost centre in the comment (e.g. CC-1234)"
    end
  end,

  tests = {
    ["budget_cut needs a cost centre"] = function(t)
      local ok, msg = t.plugin.before_cancel({ id = "sub_x" }, "budget_cut", "no money")
      t.eq(ok, false)
      t.match(msg, "cost centre")
      t.eq(t.plugin.before_cancel({ id = "sub_x" }, "budget_cut", "CC-42 closed"), nil)
    end,
    ["other reasons pass"] = function(t)
      t.eq(t.plugin.before_cancel({ id = "sub_x" }, "too_expensive", nil), nil)
    end,
  },
}
